namespace AvatarKit.Testing.LiveAvatar;

/// <summary>A message a LITE WebSocket received.</summary>
/// <param name="SessionId">The session.</param>
/// <param name="Type">The message <c>type</c>.</param>
/// <param name="EventId">The message <c>event_id</c>, if any.</param>
/// <param name="AudioBytes">The approximate decoded size of <c>audio</c> (base64 length x 3/4), 0 when none.</param>
/// <param name="ReceivedAt">When it arrived.</param>
public sealed record RecordedLiteMessage(string SessionId, string Type, string? EventId, int AudioBytes, DateTimeOffset ReceivedAt);
