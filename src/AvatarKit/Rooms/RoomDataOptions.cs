namespace AvatarKit;

/// <summary>How to publish a data message.</summary>
public sealed class RoomDataOptions
{
    /// <summary>Gets or sets the topic receivers filter on.</summary>
    public string? Topic { get; set; }

    /// <summary>Gets or sets a value indicating whether delivery is reliable and ordered (default) rather than lossy.</summary>
    public bool Reliable { get; set; } = true;

    /// <summary>Gets or sets the identities to deliver to; every other participant when null or empty.</summary>
    public IReadOnlyList<string>? DestinationIdentities { get; set; }
}
