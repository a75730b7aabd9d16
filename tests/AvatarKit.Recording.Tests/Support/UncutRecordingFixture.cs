using System.Diagnostics;
using System.Text.Json;
using AvatarKit.Recording.Clips;
using AvatarKit.Recording.Session;

namespace AvatarKit.Recording.Tests.Support;

/// <summary>
/// One recording, made once for the class, whose completion was cancelled before any clip was cut: 6 s in two
/// segments (the live ffmpeg is killed at 3.2 s) with three answers, one in each segment and one across the restart.
/// Each test works on its own copy of the files.
/// </summary>
public sealed class UncutRecordingFixture : IAsyncLifetime
{
    /// <summary>The answers (avatar speaking from, to) and their text.</summary>
    internal static readonly (double From, double To, string Text)[] Answers = [(0.4, 1.0, "first"), (2.6, 3.8, "across the restart"), (4.8, 5.2, "after the restart")];

    private static readonly TimeSpan End = TimeSpan.FromSeconds(6);
    private static readonly TimeSpan KillAt = TimeSpan.FromSeconds(3.2);
    private readonly TestOutput _output = new();

    /// <summary>Gets the directory holding the session files and the sidecar.</summary>
    internal string Directory => _output.Directory;

    public async ValueTask InitializeAsync()
    {
        if (!MediaProbe.FfmpegAvailable)
        {
            return;
        }

        var server = new InProcessRoomServer();
        await using var avatar = await SyntheticAvatar.JoinAsync(server, "pending");
        var viewer = await server.JoinAsync("pending", "recorder");
        var session = new FakeAvatarSession(viewer, "avatar");
        var recording = (FfmpegSessionRecording)await new FfmpegSessionRecorder(_output.Options()).StartAsync(new SessionRecordingRequest { SessionId = "pending", Avatar = session });
        await recording.SourcesStarted;

        // Every clip slot is taken, so no clip is cut while recording or closing: completion is cancelled with all three waiting.
        var held = 0;
        while (ClipCutter.Slots.Wait(0))
        {
            held++;
        }

        try
        {
            await avatar.PublishAsync(TimeSpan.Zero, End, Pacing.Encoder(recording), onStep: async t =>
            {
                foreach (var (from, to, text) in Answers)
                {
                    if (Math.Abs(t.TotalSeconds - from) < 0.001 || Math.Abs(t.TotalSeconds - to) < 0.001)
                    {
                        await Pacing.UntilReceivedAsync(recording, t);
                        session.RaiseSpeaking(started: Math.Abs(t.TotalSeconds - from) < 0.001, text);
                    }
                }

                if (Math.Abs(t.TotalSeconds - 2.8) < 0.001)
                {
                    await Pacing.UntilReceivedAsync(recording, t);
                    recording.AddTranscript("user", "a line during the second answer");
                }
                else if (t == KillAt)
                {
                    Process.GetProcessById(recording.EncoderProcessId).Kill(); // SIGKILL: the encoder restarts into a second segment
                }
            });
            await Pacing.UntilReceivedAsync(recording, End);
            using var cancel = new CancellationTokenSource();
            var completion = recording.CompleteAsync(cancel.Token);
            var deadline = Stopwatch.StartNew();
            while (!recording.EncoderClosed && !completion.IsCompleted && deadline.Elapsed < TimeSpan.FromMinutes(1))
            {
                await Task.Delay(5);
            }

            Assert.True(recording.EncoderClosed, "The session file was not closed.");
            await cancel.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => completion);
        }
        finally
        {
            ClipCutter.Slots.Release(held);
            await viewer.DisposeAsync();
        }

        Assert.Equal(2, recording.SegmentFiles.Count);
        Assert.Empty(System.IO.Directory.GetFiles(Directory, "voice_task_*"));
        using var sidecar = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(Directory, "session_pending.json")));
        Assert.Equal(3, sidecar.RootElement.GetProperty("uncutClips").GetArrayLength());
    }

    /// <summary>Copies the recording into <paramref name="output"/>'s directory.</summary>
    /// <returns>The copy's sidecar path.</returns>
    internal string CopyTo(TestOutput output)
    {
        foreach (var file in System.IO.Directory.GetFiles(Directory, "session_pending*"))
        {
            File.Copy(file, Path.Combine(output.Directory, Path.GetFileName(file)));
        }

        return Path.Combine(output.Directory, "session_pending.json");
    }

    public ValueTask DisposeAsync()
    {
        _output.Dispose();
        return ValueTask.CompletedTask;
    }
}
