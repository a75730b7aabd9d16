namespace AvatarKit.Speech.Capture.Wasapi;

/// <summary>A capture endpoint as WASAPI lists it.</summary>
/// <param name="Id">The endpoint ID (stable across runs).</param>
/// <param name="Name">The friendly name, e.g. <c>Microphone (Realtek(R) Audio)</c>.</param>
/// <param name="IsDefault">Whether it is the default communications capture device.</param>
internal sealed record WasapiEndpoint(string Id, string Name, bool IsDefault);

/// <summary>Chooses the endpoint to capture from; platform-independent so it is tested everywhere.</summary>
internal static class WasapiDeviceSelection
{
    /// <summary>
    /// Picks <paramref name="requested"/> by exact ID, then exact name, then a unique part of a name
    /// (all ignoring case); the default endpoint (else the first) when null.
    /// </summary>
    /// <exception cref="AudioInputException">No endpoint, or none or several match (the message lists them).</exception>
    public static WasapiEndpoint Select(IReadOnlyList<WasapiEndpoint> endpoints, string? requested)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        if (endpoints.Count == 0)
        {
            throw new AudioInputException("Windows lists no active microphone. Connect one, or enable it in Settings > System > Sound > Input.");
        }

        if (string.IsNullOrWhiteSpace(requested))
        {
            return endpoints.FirstOrDefault(e => e.IsDefault) ?? endpoints[0];
        }

        var match = endpoints.FirstOrDefault(e => string.Equals(e.Id, requested, StringComparison.OrdinalIgnoreCase))
            ?? endpoints.FirstOrDefault(e => string.Equals(e.Name, requested, StringComparison.OrdinalIgnoreCase));
        if (match is not null)
        {
            return match;
        }

        var partial = endpoints.Where(e => e.Name.Contains(requested, StringComparison.OrdinalIgnoreCase)).ToList();
        return partial.Count switch
        {
            1 => partial[0],
            0 => throw new AudioInputException($"No microphone matches '{requested}'. Available: {List(endpoints)}."),
            _ => throw new AudioInputException($"'{requested}' matches several microphones: {List(partial)}. Pass a longer name or the ID."),
        };
    }

    private static string List(IEnumerable<WasapiEndpoint> endpoints) => string.Join("; ", endpoints.Select(e => $"{e.Name} [{e.Id}]"));
}
