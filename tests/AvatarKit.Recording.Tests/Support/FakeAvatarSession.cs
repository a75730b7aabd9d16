namespace AvatarKit.Recording.Tests.Support;

/// <summary>An avatar session whose speaking events the test raises; its room is a real in-process room.</summary>
internal sealed class FakeAvatarSession(IRealtimeRoom room, string avatarIdentity) : IAvatarSession
{
    public event EventHandler<AvatarSessionStateChangedEventArgs>? StateChanged;

    public event EventHandler<AvatarSpeechEventArgs>? SpeakingStarted;

    public event EventHandler<AvatarSpeechEventArgs>? SpeakingEnded;

    public string SessionId => "fake";

    public AvatarSessionState State => AvatarSessionState.Ready;

    public IRealtimeRoom? Room => room;

    public string AvatarIdentity => avatarIdentity;

    public void RaiseSpeaking(bool started, string text)
    {
        var args = new AvatarSpeechEventArgs(text, text, DateTimeOffset.UtcNow);
        (started ? SpeakingStarted : SpeakingEnded)?.Invoke(this, args);
        StateChanged?.Invoke(this, new AvatarSessionStateChangedEventArgs(AvatarSessionState.Ready, started ? AvatarSessionState.Speaking : AvatarSessionState.Listening));
    }

    public Task SpeakAsync(string text, CancellationToken cancellationToken = default) => Task.CompletedTask;

    public Task SpeakAsync(IAsyncEnumerable<string> textChunks, CancellationToken cancellationToken = default) => Task.CompletedTask;

    public Task InterruptAsync(CancellationToken cancellationToken = default) => Task.CompletedTask;

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
