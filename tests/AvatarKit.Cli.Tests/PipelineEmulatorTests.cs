using System.Diagnostics;
using System.Runtime.CompilerServices;
using AvatarKit.Llm;
using AvatarKit.Speech.Capture;
using AvatarKit.Speech.Deepgram;
using AvatarKit.Testing.Gemini;
using AvatarKit.Testing.LiveAvatar;
using AvatarKit.Testing.Sandbox;
using AvatarKit.Testing.Voice;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;

namespace AvatarKit.Cli.Tests;

/// <summary>The pipeline composed against the sandbox's emulators, in process.</summary>
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
        services.AddSingleton<IChatClient>(AvatarKitSandbox.CreateChatClient());
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

    private static readonly string[] Story =
    [
        "Once upon a time a lighthouse keeper lived alone on a rocky island far out at sea.",
        "Every evening she climbed one hundred and twelve steps to light the great lamp.",
        "One stormy night a small fishing boat lost its way between the sharp reefs.",
        "She swung the beam across the waves again and again until the boat found the channel.",
        "The sailors came ashore at dawn, soaked and grateful, carrying a basket of fresh bread.",
        "From then on every ship that passed the island sounded its horn three times.",
        "And the keeper waved back from the gallery each time, smiling at the sea.",
        "Years later, when the lamp was automated, she stayed on the island anyway.",
    ];

    [Fact]
    public async Task Speaking_over_the_avatar_interrupts_it_cancels_the_answer_keeps_what_was_said_and_the_next_turn_answers()
    {
        var ct = TestContext.Current.CancellationToken;
        Assert.SkipUnless(EspeakTextToSpeechClient.IsAvailable, "espeak-ng is not installed (./build.sh test installs it).");
        await using var sandbox = await AvatarKitSandbox.StartAsync(new SandboxOptions(), ct);
        var deepgram = sandbox.Deepgram!;
        deepgram.Options.Transcripts.Add("Tell me a long story.");
        deepgram.Options.Transcripts.Add("Stop, what is the capital of France?");
        var gemini = sandbox.Gemini!;

        // A slow model: the whole story takes about 25 s to stream, so the barge-in lands mid-answer.
        gemini.Options.TimeToFirstToken = TimeSpan.FromMilliseconds(200);
        gemini.Options.TokensPerSecond = 5;
        gemini.Options.WordsPerChunk = 2;
        gemini.AddRule(r => r.LastUserText?.Contains("story", StringComparison.OrdinalIgnoreCase) == true ? GeminiEmulatorAnswer.FromText(string.Join(' ', Story)) : null);
        gemini.AddRule(r => r.LastUserText?.Contains("capital", StringComparison.OrdinalIgnoreCase) == true ? GeminiEmulatorAnswer.FromText("The capital of France is Paris.") : null);

        var directory = Directory.CreateTempSubdirectory("avatarkit-bargein-").FullName;
        var question = Path.Combine(directory, "question.wav");
        var bargeIn = Path.Combine(directory, "barge-in.wav");
        await SpokenWav.WriteAsync(question, "Tell me a long story.", cancellationToken: ct);
        await SpokenWav.WriteAsync(bargeIn, "Stop, what is the capital of France?", cancellationToken: ct);

        var firstSpeech = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var secondTurnDone = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var microphone = new ScriptedMicrophone(
            ScriptedMicrophone.Silence(TimeSpan.FromMilliseconds(300)),
            ScriptedMicrophone.Wav(question),
            ScriptedMicrophone.SilenceUntil(firstSpeech.Task, then: TimeSpan.FromSeconds(1)),
            ScriptedMicrophone.Wav(bargeIn),
            ScriptedMicrophone.SilenceUntil(secondTurnDone.Task, then: TimeSpan.Zero));

        var services = new ServiceCollection();
        services.AddSingleton(sandbox.Rooms.Connector);
        services.AddAvatarKit().AddLiveAvatar(o =>
        {
            o.BaseUrl = sandbox.Endpoints["liveavatar"].BaseUrl;
            o.ApiKey = sandbox.Endpoints["liveavatar"].ApiKey;
            o.AvatarId = LiveAvatarEmulatorOptions.PublicAvatarId;
        });
        await using var provider = services.BuildServiceProvider();
        using var http = new HttpClient();
        using var chat = new GeminiChatClient(http, new GeminiOptions { BaseUrl = gemini.BaseUrl, ApiKey = gemini.ApiKey });
        using var speechToText = new DeepgramSpeechToTextClient(new DeepgramOptions { BaseUrl = deepgram.BaseUrl, ApiKey = deepgram.ApiKey });
        await using var pipeline = AvatarPipeline.CreateBuilder()
            .UseChatClient(chat)
            .UseSpeechToText(speechToText, microphone)
            .UseAvatar(provider.GetRequiredService<IAvatarService>())
            .Build();

        var events = new List<ConversationEvent>();
        var turns = new List<ConversationTurnResult>();
        var reading = Task.Run(
            async () =>
            {
                await foreach (var e in pipeline.ReadEventsAsync(ct))
                {
                    lock (events)
                    {
                        events.Add(e);
                    }

                    if (e is AvatarSpeakingStartedEvent { TurnId: 1 })
                    {
                        firstSpeech.TrySetResult();
                    }
                    else if (e is TurnCompletedEvent completed)
                    {
                        turns.Add(completed.Result);
                        if (turns.Count == 2)
                        {
                            secondTurnDone.TrySetResult();
                        }
                    }
                }
            },
            ct);

        await pipeline.StartAsync(ct);
        var avatar = sandbox.LiveAvatar!.GetAvatar(Assert.Single(sandbox.LiveAvatar.OpenSessionIds))!;
        long interruptedAt = 0;
        avatar.SpeakingEnded += (_, e) =>
        {
            if (e.Interrupted)
            {
                Interlocked.CompareExchange(ref interruptedAt, Stopwatch.GetTimestamp(), 0);
            }
        };

        await secondTurnDone.Task.WaitAsync(TimeSpan.FromSeconds(90), ct);
        await pipeline.StopAsync(cancellationToken: ct);
        await reading; // the event stream ends when the pipeline stops
        Directory.Delete(directory, recursive: true);

        // The avatar was interrupted by the user's voice while it spoke the story.
        var interrupted = Assert.Single(events.OfType<InterruptedEvent>());
        Assert.Equal(InterruptReason.BargeIn, interrupted.Reason);
        Assert.NotEqual(0, Interlocked.Read(ref interruptedAt));
        var (first, second) = (turns[0], turns[1]);
        Assert.Equal("Tell me a long story.", first.UserText);
        Assert.Equal(TurnOutcome.Interrupted, first.Outcome);

        // The rest of the answer was never streamed, and the history keeps only what the avatar said.
        var story = string.Join(' ', Story);
        Assert.StartsWith(first.AnswerText, story, StringComparison.Ordinal);
        Assert.True(first.AnswerText.Length < story.Length / 2, $"The chat answer was not cut: {first.AnswerText}");
        Assert.NotEmpty(first.SpokenText);
        Assert.StartsWith(first.SpokenText, story, StringComparison.Ordinal);
        var history = pipeline.History.GetMessages();
        Assert.Equal(4, history.Count);
        Assert.Equal(first.SpokenText, history[1].Text);
        Assert.Equal(true, history[1].AdditionalProperties?[ConversationHistory.InterruptedProperty]);

        // The next turn answers, and Gemini was sent only what was said of the story.
        Assert.Equal("Stop, what is the capital of France?", second.UserText);
        Assert.Equal(TurnOutcome.Completed, second.Outcome);
        Assert.Equal("The capital of France is Paris.", second.SpokenText);
        var followUp = gemini.Requests.Last(r => r.LastUserText?.Contains("capital", StringComparison.Ordinal) == true);
        var modelTurn = followUp.Json!["contents"]!.AsArray().Single(c => c!["role"]!.GetValue<string>() == "model");
        Assert.Equal(first.SpokenText, modelTurn!["parts"]![0]!["text"]!.GetValue<string>());
        Assert.Equal(0, sandbox.LiveAvatar.OpenSessionCount);

        var endToEnd = Stopwatch.GetElapsedTime(microphone.SpeechStarts[1], Interlocked.Read(ref interruptedAt));
        TestContext.Current.TestOutputHelper?.WriteLine(
            $"barge-in: pipeline speech-started → interrupt sent {interrupted.Latency.TotalMilliseconds:0} ms; " +
            $"user's voice starts → emulated avatar interrupted {endToEnd.TotalMilliseconds:0} ms (includes the Deepgram emulator's VAD)");
    }

    /// <summary>
    /// A microphone that plays a script in real time: WAV files of real speech (through
    /// <see cref="StreamAudioInput"/>), and silence for a time or until something happened.
    /// </summary>
    private sealed class ScriptedMicrophone(params ScriptedMicrophone.Step[] steps) : IAudioInput
    {
        private static readonly TimeSpan FrameDuration = TimeSpan.FromMilliseconds(20);

        public string Name => "scripted microphone";

        /// <summary>Gets when each WAV step started playing (<see cref="Stopwatch.GetTimestamp"/>).</summary>
        public List<long> SpeechStarts { get; } = [];

        public static Step Wav(string path) => new(path, null, TimeSpan.Zero);

        public static Step Silence(TimeSpan duration) => new(null, null, duration);

        public static Step SilenceUntil(Task condition, TimeSpan then) => new(null, condition, then);

        public async IAsyncEnumerable<AudioFrame> CaptureAsync(AudioFormat format, [EnumeratorCancellation] CancellationToken cancellationToken = default)
        {
            var clock = Stopwatch.StartNew();
            var position = TimeSpan.Zero;
            var silence = new byte[format.GetByteCount(FrameDuration)];
            foreach (var step in steps)
            {
                if (step.WavPath is { } path)
                {
                    SpeechStarts.Add(Stopwatch.GetTimestamp());
                    await foreach (var frame in StreamAudioInput.FromWavFile(path, realTime: true).CaptureAsync(format, cancellationToken))
                    {
                        using (frame)
                        {
                            yield return frame.Clone(position);
                            position += frame.Duration;
                        }
                    }

                    continue;
                }

                var until = step.Condition;
                var end = until is null ? position + step.Then : TimeSpan.MaxValue;
                while (position < end)
                {
                    if (until?.IsCompleted == true)
                    {
                        (until, end) = (null, position + step.Then);
                        continue;
                    }

                    // Real time: never run ahead of the clock.
                    if (position > clock.Elapsed)
                    {
                        await Task.Delay(position - clock.Elapsed, cancellationToken);
                    }

                    yield return AudioFrame.Copy(format, silence, position);
                    position += FrameDuration;
                }
            }
        }

        internal sealed record Step(string? WavPath, Task? Condition, TimeSpan Then);
    }
}
