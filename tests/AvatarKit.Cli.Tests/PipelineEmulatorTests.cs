using AvatarKit.Testing.LiveAvatar;
using AvatarKit.Testing.Sandbox;
using Microsoft.Extensions.DependencyInjection;

namespace AvatarKit.Cli.Tests;

/// <summary>The pipeline composed through DI against the sandbox's emulators, in process.</summary>
public sealed class PipelineEmulatorTests
{
    [Fact]
    public async Task A_turn_reaches_the_emulated_avatar_is_recorded_and_no_session_is_left_open()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var sandbox = await AvatarKitSandbox.StartAsync(new SandboxOptions { Deepgram = false, Gemini = false }, ct);
        var output = Directory.CreateTempSubdirectory("avatarkit-pipeline-").FullName;
        var services = new ServiceCollection();
        services.AddSingleton(sandbox.Rooms.Connector);
        services.AddSingleton<Microsoft.Extensions.AI.IChatClient>(AvatarKitSandbox.CreateChatClient());
        services.AddAvatarKit(o => o.OutputDirectory = output)
            .AddLiveAvatar(o =>
            {
                o.BaseUrl = sandbox.Endpoints["liveavatar"].BaseUrl;
                o.ApiKey = sandbox.Endpoints["liveavatar"].ApiKey;
                o.AvatarId = LiveAvatarEmulatorOptions.PublicAvatarId;
            })
            .AddRecording(o => o.OutputDirectory = output)
            .AddPipeline();
        SessionRecordingResult? recording;
        ConversationTurnResult turn;
        await using (var provider = services.BuildServiceProvider())
        {
            await using var pipeline = provider.GetRequiredService<IAvatarPipelineFactory>().Create();
            await pipeline.StartAsync(ct);
            Assert.Equal(1, sandbox.LiveAvatar!.OpenSessionCount);

            turn = await pipeline.SendTextAsync("What is the capital of France?", ct);
            recording = await pipeline.StopAsync(cancellationToken: ct);
        }

        Assert.Equal(TurnOutcome.Completed, turn.Outcome);
        Assert.StartsWith("The capital of France is Paris.", turn.SpokenText, StringComparison.Ordinal);
        Assert.NotNull(turn.Metrics.ToFirstSpeech);
        Assert.Equal(0, sandbox.LiveAvatar.OpenSessionCount);
        Assert.NotNull(recording);
        Assert.True(new FileInfo(recording.SessionFilePath).Length > 0);
        var clip = Assert.Single(recording.Clips);
        Assert.True(clip.End > clip.Start);
        Directory.Delete(output, recursive: true);
    }
}
