using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace AvatarKit.Tests.Conversation;

/// <summary><see cref="AvatarPipelineOptions.RecordingFinalizeTimeout"/>: default, validation, binding, and use at stop.</summary>
public sealed class RecordingFinalizeTimeoutTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public void The_default_allows_30_seconds_and_is_valid()
    {
        var options = new AvatarPipelineOptions();

        Assert.Equal(TimeSpan.FromSeconds(30), options.RecordingFinalizeTimeout);
        Assert.Empty(options.Validate());
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(25 * 3600)]
    public void A_timeout_that_is_not_positive_or_longer_than_a_day_is_named_with_its_range(int seconds)
    {
        var builder = AvatarPipeline.CreateBuilder().UseChatClient(new TestChatClient()).UseAvatar(new TestAvatarService(new TestAvatarSession()))
            .Configure(o => o.RecordingFinalizeTimeout = TimeSpan.FromSeconds(seconds));

        var ex = Assert.Throws<OptionsValidationException>(builder.Build);

        var failure = Assert.Single(ex.Failures);
        Assert.Contains($"RecordingFinalizeTimeout is {seconds} s; use more than 0 up to 24 h (AvatarKit:Pipeline:RecordingFinalizeTimeout)", failure, StringComparison.Ordinal);
    }

    [Fact]
    public void DI_binds_it_from_the_pipeline_section_into_every_pipeline_it_creates()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["AvatarKit:Pipeline:RecordingFinalizeTimeout"] = "00:02:30",
        }).Build();
        var services = new ServiceCollection().AddSingleton<IConfiguration>(configuration)
            .AddSingleton<Microsoft.Extensions.AI.IChatClient>(new TestChatClient()).AddSingleton<IAvatarService>(new TestAvatarService(new TestAvatarSession()));
        services.AddAvatarKit().AddPipeline();
        using var provider = services.BuildServiceProvider();

        var pipeline = provider.GetRequiredService<IAvatarPipelineFactory>().Create();

        Assert.Equal(TimeSpan.FromSeconds(150), provider.GetRequiredService<IOptions<AvatarPipelineOptions>>().Value.RecordingFinalizeTimeout);
        Assert.Equal(TimeSpan.FromSeconds(150), pipeline.Options.RecordingFinalizeTimeout);
    }

    [Fact]
    public void DI_rejects_a_zero_timeout_from_configuration_at_start()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["AvatarKit:Pipeline:RecordingFinalizeTimeout"] = "00:00:00",
        }).Build();
        var services = new ServiceCollection().AddSingleton<IConfiguration>(configuration);
        services.AddAvatarKit().AddPipeline();
        using var provider = services.BuildServiceProvider();

        var ex = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<AvatarPipelineOptions>>().Value);

        Assert.Contains("RecordingFinalizeTimeout is 0 s", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Stopping_cancels_a_finalization_that_outlasts_the_allowance_and_reports_it()
    {
        var server = new InProcessRoomServer();
        await using var room = await server.JoinAsync("r", "viewer", Ct);
        var recorder = new EndlessRecorder();
        var pipeline = AvatarPipeline.CreateBuilder().UseChatClient(new TestChatClient())
            .UseAvatarSession(new TestAvatarSession { Room = room }).UseRecording(recorder)
            .Configure(o => o.RecordingFinalizeTimeout = TimeSpan.FromMilliseconds(200))
            .Build();
        var log = new EventLog(pipeline);
        await pipeline.StartAsync(Ct);

        var result = await pipeline.StopAsync(cancellationToken: Ct);

        // The recording's completion ran until the allowance cancelled it (not the caller's token, which never is).
        Assert.Null(result);
        Assert.True(await recorder.Recording.CompletionCancelled.Task.WaitAsync(Ct));
        var error = await log.WaitForAsync<ConversationErrorEvent>(e => e.Stage == ConversationStage.Recording);
        Assert.Contains("Finalizing the recording failed", error.Message, StringComparison.Ordinal);
    }

    /// <summary>A recorder whose completion never ends by itself (a clip backlog that outlasts any allowance).</summary>
    private sealed class EndlessRecorder : ISessionRecorder
    {
        public EndlessRecording Recording { get; } = new();

        public Task<ISessionRecording> StartAsync(SessionRecordingRequest request, CancellationToken cancellationToken = default) =>
            Task.FromResult<ISessionRecording>(Recording);
    }

    private sealed class EndlessRecording : ISessionRecording
    {
        public event EventHandler<RecordingErrorEventArgs>? Failed
        {
            add { }
            remove { }
        }

        public TaskCompletionSource<bool> CompletionCancelled { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public string SessionFilePath => "session_endless.mp4";

        public IReadOnlyList<RecordedClip> Clips => [];

        public long DroppedVideoFrames => 0;

        public ValueTask WriteUserAudioAsync(AudioFrame frame, CancellationToken cancellationToken = default) => ValueTask.CompletedTask;

        public void BeginClip(string? text = null)
        {
        }

        public void EndClip()
        {
        }

        public void AddTranscript(string speaker, string text)
        {
        }

        public async Task<SessionRecordingResult> CompleteAsync(CancellationToken cancellationToken = default)
        {
            try
            {
                await Task.Delay(Timeout.Infinite, cancellationToken);
            }
            finally
            {
                CompletionCancelled.TrySetResult(cancellationToken.IsCancellationRequested);
            }

            throw new InvalidOperationException("unreachable");
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
