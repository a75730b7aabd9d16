namespace AvatarKit.HeyGen;

/// <summary>LiveAvatar's catalogue beyond avatars: voices and contexts. Get it with <c>service.GetService(typeof(ILiveAvatarCatalog))</c>.</summary>
public interface ILiveAvatarCatalog
{
    /// <summary>Lists the voices (public, or the account's own).</summary>
    /// <param name="privateVoices">Whether to list the account's own voices rather than public ones.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The voices.</returns>
    Task<IReadOnlyList<AvatarVoiceInfo>> ListVoicesAsync(bool privateVoices = false, CancellationToken cancellationToken = default);

    /// <summary>Lists the contexts (persona and knowledge for FULL mode).</summary>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The contexts.</returns>
    Task<IReadOnlyList<AvatarContextInfo>> ListContextsAsync(CancellationToken cancellationToken = default);
}

/// <summary>A voice of the catalogue.</summary>
/// <param name="Id">The voice id.</param>
/// <param name="Name">The display name.</param>
public sealed record AvatarVoiceInfo(string Id, string Name)
{
    /// <summary>Gets the voice's language.</summary>
    public string? Language { get; init; }

    /// <summary>Gets the voice's gender.</summary>
    public string? Gender { get; init; }
}

/// <summary>A FULL-mode context (persona and knowledge).</summary>
/// <param name="Id">The context id.</param>
/// <param name="Name">The display name.</param>
public sealed record AvatarContextInfo(string Id, string Name);
