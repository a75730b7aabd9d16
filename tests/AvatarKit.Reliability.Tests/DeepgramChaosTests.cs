using System.Collections.Concurrent;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;
using AvatarKit.Harness.Doubles;
using AvatarKit.Speech.Deepgram;
using AvatarKit.Testing.Deepgram;
using AvatarKit.Testing.Voice;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;

namespace AvatarKit.Reliability.Tests;

/// <summary>
/// The real conversation pipeline with the real Deepgram client, hearing real speech (espeak-ng)
/// through the Deepgram emulator, while the emulator drops the socket in the middle of an utterance.
/// </summary>
public sealed partial class DeepgramChaosTests
{
    private static readonly string[] Utterances =
    [
        "Hello avatar, how are you today?",
        "What is the weather like in Paris tomorrow?",
        "Thank you, that is all for now.",
    ];

    private static readonly AudioFormat Format = AudioFormat.Pcm16Mono16kHz;

    [Fact]
    public async Task A_socket_dropped_mid_utterance_loses_and_duplicates_nothing_and_reconnects_within_a_second()
    {
        Assert.SkipUnless(EspeakTextToSpeechClient.IsAvailable, "espeak-ng is not installed; this test speaks real utterances.");
        var ct = TestContext.Current.CancellationToken;
        var (speech, secondUtterance) = await SpeechAsync(ct);
        await using var emulator = await DeepgramEmulator.StartAsync(o =>
        {
            foreach (var utterance in Utterances)
            {
                o.Transcripts.Add(utterance);
            }
        }, ct);

        // Half-way through the second utterance, by the audio the first connection has received.
        emulator.Options.Faults.DropAfterAudio(Format.GetDuration(secondUtterance.Start + secondUtterance.Length / 2));
        var logs = new CapturingLoggerProvider();
        using var loggerFactory = LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Debug).AddProvider(logs));
        using var deepgram = new DeepgramSpeechToTextClient(
            new DeepgramOptions { ApiKey = emulator.ApiKey, BaseUrl = emulator.BaseUrl }, logger: loggerFactory.CreateLogger<DeepgramSpeechToTextClient>());
        using var recorded = new RecordingSpeechToTextClient(deepgram);
        using var chat = new PacedChatClient("Sure.");
        await using var pipeline = AvatarPipeline.CreateBuilder()
            .UseChatClient(chat)
            .UseAvatarSession(new SimulatedAvatarSession())
            .UseSpeechToText(recorded, new SpokenAudioInput(speech))
            .UseLoggerFactory(loggerFactory)
            .Build();
        var userTurns = new List<string>();
        var allHeard = new TaskCompletionSource();
        var events = pipeline.ReadEventsAsync(ct);
        var reader = Task.Run(
            async () =>
            {
                await foreach (var e in events)
                {
                    if (e is UserTurnEvent turn)
                    {
                        userTurns.Add(turn.Text);
                        if (userTurns.Count == Utterances.Length)
                        {
                            allHeard.TrySetResult();
                        }
                    }
                }
            },
            ct);

        await pipeline.StartAsync(ct);
        await allHeard.Task.WaitAsync(TimeSpan.FromSeconds(60), ct);

        // Let anything late (a duplicate, say) arrive before judging.
        await Task.Delay(TimeSpan.FromSeconds(1.5), ct);
        await pipeline.DisposeAsync();
        await reader;

        Assert.Equal(Utterances, userTurns);
        Assert.Equal(2, emulator.ListenConnections);
        var reconnected = logs.Lines.Select(l => ReconnectedIn().Match(l)).Where(m => m.Success).Select(m => double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)).ToList();
        var milliseconds = Assert.Single(reconnected);
        TestContext.Current.TestOutputHelper?.WriteLine($"reconnected (including the re-sent audio) after {milliseconds:0} ms");
        Assert.InRange(milliseconds, 0, 1000);

        // Times stay on the stream's clock across the new connection: finals follow one another, and
        // the second utterance starts where it was spoken although the new connection transcribed it.
        var finals = recorded.Updates.Where(u => u.Kind == SpeechToTextResponseUpdateKind.TextUpdated && !string.IsNullOrEmpty(u.Text)).ToList();
        Assert.Equal(Utterances, finals.Select(f => f.Text));
        Assert.All(finals, f => Assert.True(f.StartTime <= f.EndTime, $"{f.StartTime} > {f.EndTime}"));
        Assert.All(finals.Zip(finals.Skip(1)), p => Assert.True(p.First.EndTime <= p.Second.StartTime, $"{p.First.EndTime} > {p.Second.StartTime}"));
        var transcripts = recorded.Updates.Where(u => u.Kind == SpeechToTextResponseUpdateKind.TextUpdating || u.Kind == SpeechToTextResponseUpdateKind.TextUpdated).ToList();
        Assert.All(transcripts.Zip(transcripts.Skip(1)), p => Assert.True(
            p.First.StartTime <= p.Second.StartTime && p.First.EndTime <= p.Second.EndTime,
            $"'{p.Second.Text}' [{p.Second.StartTime}-{p.Second.EndTime}] went back from '{p.First.Text}' [{p.First.StartTime}-{p.First.EndTime}]"));
        Assert.Equal(Utterances.Length, recorded.Updates.Count(u => u.Kind == DeepgramSpeechUpdateKinds.SpeechStarted));
        var words = (DeepgramWord[])finals[1].AdditionalProperties![DeepgramSpeechProperties.Words]!;
        Assert.InRange(words[0].Start, Format.GetDuration(secondUtterance.Start) - TimeSpan.FromMilliseconds(20), Format.GetDuration(secondUtterance.Start) + TimeSpan.FromMilliseconds(150));
    }

    /// <summary>The three utterances with silence around them, and where the second one lies (byte offset and length).</summary>
    private static async Task<(byte[] Pcm, (int Start, int Length) Second)> SpeechAsync(CancellationToken cancellationToken)
    {
        var gap = new byte[Format.GetByteCount(TimeSpan.FromSeconds(1.2))];
        var parts = new List<byte[]> { new byte[Format.GetByteCount(TimeSpan.FromSeconds(0.5))] };
        (int, int) second = default;
        foreach (var utterance in Utterances)
        {
            var spoken = await SpokenWav.SynthesizePcmAsync(utterance, Format.SampleRate, cancellationToken: cancellationToken);
            if (utterance == Utterances[1])
            {
                second = (parts.Sum(p => p.Length), spoken.Length);
            }

            parts.Add(spoken);
            parts.Add(gap);
        }

        return ([.. parts.SelectMany(p => p)], second);
    }

    [GeneratedRegex(@"reconnected after (\d+) ms", RegexOptions.CultureInvariant)]
    private static partial Regex ReconnectedIn();

    /// <summary>A microphone that says the given PCM in real time, then stays silent.</summary>
    private sealed class SpokenAudioInput(byte[] pcm) : IAudioInput
    {
        public string Name => "spoken test audio";

        public async IAsyncEnumerable<AudioFrame> CaptureAsync(AudioFormat format, [EnumeratorCancellation] CancellationToken cancellationToken = default)
        {
            Assert.Equal(Format, format);
            var frameBytes = format.GetByteCount(TimeSpan.FromMilliseconds(20));
            using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(20));
            for (var offset = 0; ; offset += frameBytes)
            {
                await timer.WaitForNextTickAsync(cancellationToken);
                var frame = AudioFrame.Rent(format, frameBytes, format.GetDuration(offset));
                frame.Span.Clear();
                if (offset < pcm.Length)
                {
                    pcm.AsSpan(offset, Math.Min(frameBytes, pcm.Length - offset)).CopyTo(frame.Span);
                }

                yield return frame;
            }
        }
    }

    /// <summary>Passes everything through and keeps every update the pipeline received.</summary>
    private sealed class RecordingSpeechToTextClient(ISpeechToTextClient inner) : DelegatingSpeechToTextClient(inner)
    {
        private readonly ConcurrentQueue<SpeechToTextResponseUpdate> _updates = new();

        public IReadOnlyList<SpeechToTextResponseUpdate> Updates => [.. _updates];

        public override async IAsyncEnumerable<SpeechToTextResponseUpdate> GetStreamingTextAsync(
            Stream audioSpeechStream, SpeechToTextOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
        {
            await foreach (var update in base.GetStreamingTextAsync(audioSpeechStream, options, cancellationToken))
            {
                _updates.Enqueue(update);
                yield return update;
            }
        }
    }
}
