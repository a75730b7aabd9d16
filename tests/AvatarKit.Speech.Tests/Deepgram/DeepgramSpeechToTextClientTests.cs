using System.Net;
using AvatarKit.Speech.Deepgram;
using AvatarKit.Testing.Deepgram;
using Microsoft.Extensions.AI;

namespace AvatarKit.Speech.Tests.Deepgram;

public sealed class DeepgramSpeechToTextClientTests : IAsyncLifetime
{
    private DeepgramEmulator _emulator = null!;

    public async ValueTask InitializeAsync() =>
        _emulator = await DeepgramEmulator.StartAsync(o =>
        {
            o.Transcripts.Add("Hello there.");
            o.Transcripts.Add("How are you today?");
            o.Transcripts.Add("Seven eight.");
        }, TestContext.Current.CancellationToken);

    public async ValueTask DisposeAsync() => await _emulator.DisposeAsync();

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private static byte[] TwoUtterances() => TestAudio.Concat(TestAudio.Silence(0.3), TestAudio.Words(2), TestAudio.Silence(1.2), TestAudio.Words(4), TestAudio.Silence(1.5));

    private DeepgramSpeechToTextClient CreateClient(Action<DeepgramOptions>? configure = null)
    {
        var options = new DeepgramOptions { ApiKey = _emulator.Options.ApiKey, BaseUrl = _emulator.BaseUrl };
        configure?.Invoke(options);
        return new DeepgramSpeechToTextClient(options);
    }

    private static async Task<List<SpeechToTextResponseUpdate>> CollectAsync(IAsyncEnumerable<SpeechToTextResponseUpdate> updates)
    {
        var list = new List<SpeechToTextResponseUpdate>();
        await foreach (var update in updates.WithCancellation(Token))
        {
            list.Add(update);
        }

        return list;
    }

    private static List<SpeechToTextResponseUpdate> Finals(IEnumerable<SpeechToTextResponseUpdate> updates) =>
        updates.Where(u => u.Kind == SpeechToTextResponseUpdateKind.TextUpdated && u.Text.Length > 0).ToList();

    [Fact]
    public async Task Interim_results_precede_the_final_result_of_each_utterance()
    {
        using var client = CreateClient();

        var updates = await CollectAsync(client.GetStreamingTextAsync(TestAudio.Frames(TwoUtterances(), cancellationToken: Token), cancellationToken: Token));

        Assert.Equal(SpeechToTextResponseUpdateKind.SessionOpen, updates[0].Kind);
        Assert.Equal(SpeechToTextResponseUpdateKind.SessionClose, updates[^1].Kind);
        Assert.Equal(["Hello there.", "How are you today?"], Finals(updates).Select(u => u.Text));
        var firstFinal = updates.IndexOf(Finals(updates)[0]);
        var interim = updates.FindIndex(u => u.Kind == SpeechToTextResponseUpdateKind.TextUpdating);
        Assert.InRange(interim, 1, firstFinal - 1);
        Assert.StartsWith(updates[interim].Text, "Hello there.", StringComparison.Ordinal);
        Assert.False((bool)updates[interim].AdditionalProperties![DeepgramSpeechProperties.IsFinal]!);
    }

    [Fact]
    public async Task Final_results_carry_word_timings_inside_the_spoken_audio()
    {
        using var client = CreateClient();

        var updates = await CollectAsync(client.GetStreamingTextAsync(TestAudio.Frames(TwoUtterances(), cancellationToken: Token), cancellationToken: Token));

        var first = Finals(updates)[0];
        var words = Assert.IsType<DeepgramWord[]>(first.AdditionalProperties![DeepgramSpeechProperties.Words]);
        Assert.Equal(["hello", "there"], words.Select(w => w.Word));
        Assert.Equal(["Hello", "there."], words.Select(w => w.PunctuatedWord));
        // The first word starts when the first tone burst does (0.3 s of silence lead), give or take its fade-in.
        Assert.InRange(words[0].Start.TotalSeconds, 0.28, 0.40);
        Assert.InRange(words[^1].End.TotalSeconds, 0.7, 1.0);
        Assert.True(first.StartTime <= words[0].Start && first.EndTime >= words[^1].End);
    }

    [Fact]
    public async Task Turn_signals_arrive_as_speech_started_speech_final_and_utterance_end()
    {
        using var client = CreateClient();

        var updates = await CollectAsync(client.GetStreamingTextAsync(TestAudio.Frames(TwoUtterances(), cancellationToken: Token), cancellationToken: Token));

        var kinds = updates.Where(u => u.Kind != SpeechToTextResponseUpdateKind.TextUpdating && !(u.Kind == SpeechToTextResponseUpdateKind.TextUpdated && u.Text.Length == 0))
            .Select(u => u.Kind == SpeechToTextResponseUpdateKind.TextUpdated ? "final" : u.Kind.Value);
        var open = SpeechToTextResponseUpdateKind.SessionOpen.Value;
        var close = SpeechToTextResponseUpdateKind.SessionClose.Value;
        var started = DeepgramSpeechUpdateKinds.SpeechStarted.Value;
        var ended = DeepgramSpeechUpdateKinds.UtteranceEnd.Value;
        Assert.Equal([open, started, "final", ended, started, "final", ended, close], kinds);
        Assert.All(Finals(updates), f => Assert.True((bool)f.AdditionalProperties![DeepgramSpeechProperties.SpeechFinal]!));
        var utteranceEnd = updates.First(u => u.Kind == DeepgramSpeechUpdateKinds.UtteranceEnd);
        var lastWord = ((DeepgramWord[])Finals(updates)[0].AdditionalProperties![DeepgramSpeechProperties.Words]!)[^1];
        Assert.Equal(lastWord.End.TotalSeconds, utteranceEnd.EndTime!.Value.TotalSeconds, 3);
    }

    [Fact]
    public async Task Timestamps_never_go_backwards()
    {
        using var client = CreateClient();

        var updates = await CollectAsync(client.GetStreamingTextAsync(TestAudio.Frames(TwoUtterances(), cancellationToken: Token), cancellationToken: Token));

        AssertMonotonic(updates);
    }

    [Fact]
    public async Task Silence_produces_no_words()
    {
        using var client = CreateClient();

        var updates = await CollectAsync(client.GetStreamingTextAsync(TestAudio.Frames(TestAudio.Silence(3), cancellationToken: Token), cancellationToken: Token));

        Assert.DoesNotContain(updates, u => u.Text.Length > 0 || u.Kind == DeepgramSpeechUpdateKinds.SpeechStarted);
        Assert.Equal(SpeechToTextResponseUpdateKind.SessionClose, updates[^1].Kind);
    }

    [Fact]
    public async Task Keep_alive_holds_the_connection_open_through_a_pause_longer_than_the_idle_timeout()
    {
        _emulator.Options.InactivityTimeout = TimeSpan.FromMilliseconds(1000);
        using var client = CreateClient(o => o.Listen.KeepAliveInterval = TimeSpan.FromMilliseconds(150));
        var audio = TwoUtterances();
        var pause = new Dictionary<int, Func<CancellationToken, Task>> { [TestAudio.FrameOffset(1.6)] = ct => Task.Delay(2000, ct) };

        var updates = await CollectAsync(client.GetStreamingTextAsync(TestAudio.Frames(audio, pause, cancellationToken: Token), cancellationToken: Token));

        Assert.Equal(["Hello there.", "How are you today?"], Finals(updates).Select(u => u.Text));
        Assert.True(_emulator.KeepAlivesReceived >= 2, $"{_emulator.KeepAlivesReceived} keep-alives");
        Assert.Equal(1, _emulator.ListenConnections);
    }

    [Fact]
    public async Task A_pause_without_keep_alive_ends_with_the_timeout_close_code()
    {
        _emulator.Options.InactivityTimeout = TimeSpan.FromMilliseconds(300);
        using var client = CreateClient(o => o.Listen.KeepAliveInterval = TimeSpan.FromSeconds(9));
        var pause = new Dictionary<int, Func<CancellationToken, Task>> { [TestAudio.FrameOffset(0.2)] = ct => Task.Delay(5000, ct) };

        var error = await Assert.ThrowsAsync<DeepgramException>(() => CollectAsync(client.GetStreamingTextAsync(TestAudio.Frames(TwoUtterances(), pause, cancellationToken: Token), cancellationToken: Token)));

        Assert.Equal(1011, error.CloseCode);
        Assert.Equal("NET-0001", error.CloseReason);
        Assert.Contains("no audio", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Finalize_on_demand_yields_a_final_result_marked_from_finalize()
    {
        using var client = CreateClient(o => o.Listen.Endpointing = TimeSpan.FromSeconds(5));
        var controller = new DeepgramListenController();
        var finalized = new TaskCompletionSource();
        var allWordsSent = new TaskCompletionSource();
        var audio = TestAudio.Concat(TestAudio.Silence(0.2), TestAudio.Words(3), TestAudio.Silence(0.5));
        // Hold the audio right after the last word, until the finalized result is back.
        var pause = new Dictionary<int, Func<CancellationToken, Task>>
        {
            [TestAudio.FrameOffset(0.2 + TestAudio.Seconds(TestAudio.Words(3)))] = ct =>
            {
                allWordsSent.TrySetResult();
                return finalized.Task.WaitAsync(ct);
            },
        };
        var updates = new List<SpeechToTextResponseUpdate>();

        await foreach (var update in client.GetStreamingTextAsync(TestAudio.Frames(audio, pause, cancellationToken: Token), controller: controller, cancellationToken: Token))
        {
            updates.Add(update);
            if (update.Kind == SpeechToTextResponseUpdateKind.TextUpdating && !finalized.Task.IsCompleted && _emulator.FinalizesReceived == 0)
            {
                // Finalize while the words are pending but only after all of them were sent; an earlier
                // finalize would split the utterance in two, which is a different test.
                await allWordsSent.Task.WaitAsync(Token);
                await controller.FinalizeAsync(Token);
            }

            if (update.Kind == SpeechToTextResponseUpdateKind.TextUpdated)
            {
                finalized.TrySetResult();
            }
        }

        var final = Assert.Single(Finals(updates));
        Assert.Equal("Hello there.", final.Text);
        Assert.True((bool)final.AdditionalProperties![DeepgramSpeechProperties.FromFinalize]!);
        Assert.False(controller.IsActive);
        await Assert.ThrowsAsync<InvalidOperationException>(() => controller.FinalizeAsync(Token));
    }

    [Fact]
    public async Task A_wrong_key_is_refused_with_401_and_the_key_is_not_in_the_message()
    {
        using var client = CreateClient(o => o.ApiKey = "wrong-secret-key");

        var error = await Assert.ThrowsAsync<DeepgramException>(() => CollectAsync(client.GetStreamingTextAsync(TestAudio.Frames(TestAudio.Silence(0.1), cancellationToken: Token), cancellationToken: Token)));

        Assert.Equal(HttpStatusCode.Unauthorized, error.StatusCode);
        Assert.Contains("Invalid credentials", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("wrong-secret-key", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unknown_model_is_refused_with_400_and_Deepgrams_reason()
    {
        using var client = CreateClient();

        var error = await Assert.ThrowsAsync<DeepgramException>(() => CollectAsync(client.GetStreamingTextAsync(TestAudio.Frames(TestAudio.Silence(0.1), cancellationToken: Token), new SpeechToTextOptions { ModelId = "bogus-1" }, cancellationToken: Token)));

        Assert.Equal(HttpStatusCode.BadRequest, error.StatusCode);
        Assert.Contains("bogus-1", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_persistent_429_at_the_handshake_surfaces_with_retry_after()
    {
        _emulator.Options.Faults.FailNextHandshakes(429, count: 2);
        using var client = CreateClient(o => o.Listen.MaxReconnectAttempts = 1);

        var error = await Assert.ThrowsAsync<DeepgramException>(() => CollectAsync(client.GetStreamingTextAsync(TestAudio.Frames(TestAudio.Silence(0.1), cancellationToken: Token), cancellationToken: Token)));

        Assert.Equal(HttpStatusCode.TooManyRequests, error.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(1), error.RetryAfter);
    }

    [Fact]
    public async Task A_transient_503_at_the_handshake_is_retried()
    {
        _emulator.Options.Faults.FailNextHandshakes(503);
        using var client = CreateClient();

        var updates = await CollectAsync(client.GetStreamingTextAsync(TestAudio.Frames(TwoUtterances(), cancellationToken: Token), cancellationToken: Token));

        Assert.Equal(2, Finals(updates).Count);
        Assert.Contains(_emulator.EventLog, e => e.Contains("503", StringComparison.Ordinal));
    }

    [Fact]
    public async Task An_undecodable_audio_close_names_the_audio_format()
    {
        _emulator.Options.Faults.CloseAfterAudio(TimeSpan.FromSeconds(0.5), 1008, "DATA-0000");
        using var client = CreateClient();

        var error = await Assert.ThrowsAsync<DeepgramException>(() => CollectAsync(client.GetStreamingTextAsync(TestAudio.Frames(TwoUtterances(), cancellationToken: Token), cancellationToken: Token)));

        Assert.Equal(1008, error.CloseCode);
        Assert.Contains("could not decode the audio", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("drop")]
    [InlineData("drop while sending")]
    [InlineData("1011 NET-0000")]
    public async Task A_connection_lost_mid_utterance_is_re_established_without_losing_or_repeating_an_utterance(string fault)
    {
        var audio = TestAudio.Concat(TestAudio.Silence(0.3), TestAudio.Words(2), TestAudio.Silence(1.2), TestAudio.Words(4), TestAudio.Silence(1.2), TestAudio.Words(2), TestAudio.Silence(1.5));
        var secondStart = 0.3 + TestAudio.Seconds(TestAudio.Words(2)) + 1.2;
        var midSecond = TimeSpan.FromSeconds(secondStart + 0.6);
        if (fault.StartsWith("drop", StringComparison.Ordinal))
        {
            _emulator.Options.Faults.DropAfterAudio(midSecond);
        }
        else
        {
            _emulator.Options.Faults.CloseAfterAudio(midSecond, 1011, "NET-0000");
        }

        var logger = new CountingLogger<DeepgramSpeechToTextClient>();
        using var client = new DeepgramSpeechToTextClient(new DeepgramOptions { ApiKey = _emulator.Options.ApiKey, BaseUrl = _emulator.BaseUrl }, logger: logger);

        // Paced audio is still being sent when the socket breaks: that send must not end the stream.
        var frameDelay = fault == "drop while sending" ? TimeSpan.FromMilliseconds(5) : TimeSpan.Zero;
        var updates = await CollectAsync(client.GetStreamingTextAsync(TestAudio.Frames(audio, frameDelay: frameDelay, cancellationToken: Token), cancellationToken: Token));

        TestContext.Current.TestOutputHelper?.WriteLine(string.Join(Environment.NewLine, logger.Entries.Select(e => e.Message).Where(m => m.Contains("reconnect", StringComparison.OrdinalIgnoreCase))));
        Assert.Equal(3, updates.Count(u => u.Kind == DeepgramSpeechUpdateKinds.SpeechStarted));
        Assert.Equal(["Hello there.", "How are you today?", "Seven eight."], Finals(updates).Select(u => u.Text));
        Assert.Equal(2, _emulator.ListenConnections);
        AssertMonotonic(updates);
        // The second utterance keeps its place on the stream's clock although a new connection transcribed it.
        var words = (DeepgramWord[])Finals(updates)[1].AdditionalProperties![DeepgramSpeechProperties.Words]!;
        Assert.InRange(words[0].Start.TotalSeconds, secondStart - 0.02, secondStart + 0.1);
        Assert.Equal(1, Finals(updates)[1].AdditionalProperties![DeepgramSpeechProperties.Reconnects]);
    }

    [Fact]
    public async Task A_thousand_malformed_server_messages_are_skipped_and_transcription_goes_on()
    {
        _emulator.Options.Faults.MalformedMessages = 1000;
        var logger = new CountingLogger<DeepgramSpeechToTextClient>();
        using var client = new DeepgramSpeechToTextClient(new DeepgramOptions { ApiKey = _emulator.Options.ApiKey, BaseUrl = _emulator.BaseUrl }, logger: logger);

        var updates = await CollectAsync(client.GetStreamingTextAsync(TestAudio.Frames(TwoUtterances(), cancellationToken: Token), cancellationToken: Token));

        // Fuzzed copies of a valid message may still parse; those say "fuzz" and are legitimately delivered.
        Assert.Equal(["Hello there.", "How are you today?"], Finals(updates).Select(u => u.Text).Where(t => !t.Contains("fuzz", StringComparison.Ordinal)));
        Assert.Equal(SpeechToTextResponseUpdateKind.SessionClose, updates[^1].Kind);
        Assert.Equal(1, _emulator.ListenConnections);
        Assert.True(logger.Entries.Count(e => e.Message.StartsWith("Ignored a malformed Deepgram message", StringComparison.Ordinal)) >= 900);
        Assert.DoesNotContain(logger.Entries, e => e.Message.Contains(_emulator.Options.ApiKey, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Delayed_results_still_arrive_in_order()
    {
        _emulator.Options.Faults.ResultDelay = TimeSpan.FromMilliseconds(20);
        using var client = CreateClient();

        var updates = await CollectAsync(client.GetStreamingTextAsync(TestAudio.Frames(TwoUtterances(), cancellationToken: Token), cancellationToken: Token));

        Assert.Equal(["Hello there.", "How are you today?"], Finals(updates).Select(u => u.Text));
    }

    [Fact]
    public async Task A_raw_pcm_stream_is_transcribed_through_the_M_E_AI_interface()
    {
        using var client = CreateClient();
        using var stream = new MemoryStream(TwoUtterances());

        var response = await TranscribeAsync(client, stream);

        Assert.Contains("Hello there.", response.Text, StringComparison.Ordinal);
        Assert.Contains("How are you today?", response.Text, StringComparison.Ordinal);

        static Task<SpeechToTextResponse> TranscribeAsync(ISpeechToTextClient client, Stream audio) =>
            client.GetStreamingTextAsync(audio, cancellationToken: Token).ToSpeechToTextResponseAsync(Token);
    }

    [Fact]
    public async Task A_wav_file_is_transcribed_with_pre_recorded_transcription()
    {
        using var client = CreateClient();
        var path = Path.Combine(Path.GetTempPath(), $"dg-{Guid.NewGuid():N}.wav");
        try
        {
            await using (var writer = new NAudio.Wave.WaveFileWriter(path, new NAudio.Wave.WaveFormat(16_000, 16, 1)))
            {
                writer.Write(TwoUtterances());
            }

            await using var file = File.OpenRead(path);
            var response = await client.GetTextAsync(file, cancellationToken: Token);

            Assert.Equal("Hello there. How are you today?", response.Text);
            Assert.Equal(6, ((List<DeepgramWord>)response.AdditionalProperties![DeepgramSpeechProperties.Words]!).Count);
            Assert.NotNull(response.ResponseId);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task Pre_recorded_transcription_with_a_wrong_key_throws_with_the_provider_code()
    {
        using var client = CreateClient(o => o.ApiKey = "nope");
        using var stream = new MemoryStream(TestAudio.Silence(0.2));

        var error = await Assert.ThrowsAsync<DeepgramException>(() => client.GetTextAsync(stream, cancellationToken: Token));

        Assert.Equal(HttpStatusCode.Unauthorized, error.StatusCode);
        Assert.Equal("INVALID_AUTH", error.ProviderCode);
    }

    private static void AssertMonotonic(List<SpeechToTextResponseUpdate> updates)
    {
        var lastFinalEnd = TimeSpan.Zero;
        var lastEnd = TimeSpan.Zero;
        foreach (var update in updates.Where(u => u.Kind == SpeechToTextResponseUpdateKind.TextUpdated || u.Kind == SpeechToTextResponseUpdateKind.TextUpdating))
        {
            Assert.True(update.StartTime >= lastFinalEnd, $"{update.Kind} '{update.Text}' starts at {update.StartTime} before the previous final ended at {lastFinalEnd}");
            Assert.True(update.EndTime >= update.StartTime);
            Assert.True(update.EndTime >= lastEnd, $"{update.Kind} '{update.Text}' ends at {update.EndTime}, before the previous result's end {lastEnd} (a repeated interim?)");
            lastEnd = update.EndTime!.Value;
            if (update.Kind == SpeechToTextResponseUpdateKind.TextUpdated)
            {
                lastFinalEnd = update.EndTime!.Value;
            }
        }
    }
}
