using System.Net;
using System.Runtime.CompilerServices;
using AvatarKit.Speech.Deepgram;
using AvatarKit.Testing.Deepgram;
using AvatarKit.Testing.Voice;
using Microsoft.Extensions.AI;

namespace AvatarKit.Speech.Tests.Deepgram;

public sealed class DeepgramTextToSpeechClientTests : IAsyncLifetime
{
    private const string Sentence = "Hello, I am your avatar.";
    private DeepgramEmulator _emulator = null!;

    public async ValueTask InitializeAsync() => _emulator = await DeepgramEmulator.StartAsync(cancellationToken: Token);

    public async ValueTask DisposeAsync() => await _emulator.DisposeAsync();

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private static TextToSpeechOptions Rate(int rate) => new() { AdditionalProperties = new() { [DeepgramTextToSpeechClient.SampleRateKey] = rate } };

    private DeepgramTextToSpeechClient CreateClient(string? key = null) =>
        new(new DeepgramOptions { ApiKey = key ?? _emulator.Options.ApiKey, BaseUrl = _emulator.BaseUrl });

    [Fact]
    public async Task The_first_audio_chunk_arrives_before_the_last_one_is_produced()
    {
        var firstReceived = new TaskCompletionSource();
        _emulator.Options.Faults.BeforeSpeakChunk = (index, ct) => index == 0 ? Task.CompletedTask : firstReceived.Task.WaitAsync(ct);
        using var client = CreateClient();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Token);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));
        var chunks = 0;

        // Were the whole answer buffered, the first chunk would never be seen: the server holds the rest until it is.
        await foreach (var update in client.GetStreamingAudioAsync(Sentence, Rate(24_000), timeout.Token))
        {
            chunks++;
            firstReceived.TrySetResult();
        }

        Assert.True(chunks > 1, $"{chunks} chunks");
    }

    [Theory]
    [InlineData(16_000)]
    [InlineData(24_000)]
    public async Task Audio_is_PCM16_at_the_requested_rate(int rate)
    {
        using var client = CreateClient();

        var response = await client.GetAudioAsync(Sentence, Rate(rate), Token);

        var audio = Assert.IsType<DataContent>(Assert.Single(response.Contents));
        Assert.Equal($"audio/pcm;rate={rate};channels=1", audio.MediaType);
        var expected = await SpokenWav.SynthesizePcmAsync(Sentence, rate, cancellationToken: Token);
        Assert.Equal(expected, audio.Data.ToArray());
        Assert.True(Pcm16.GetRmsDbfs(Pcm16.AsSamples(audio.Data.Span)) > -30, "the audio is not silent");
    }

    [Fact]
    public async Task A_wrong_key_is_refused_with_401()
    {
        using var client = CreateClient("bad");

        var error = await Assert.ThrowsAsync<DeepgramException>(() => client.GetAudioAsync(Sentence, cancellationToken: Token));

        Assert.Equal(HttpStatusCode.Unauthorized, error.StatusCode);
        Assert.Equal("INVALID_AUTH", error.ProviderCode);
    }

    [Fact]
    public async Task An_unsupported_rate_is_rejected_before_any_request()
    {
        using var client = CreateClient();

        await Assert.ThrowsAsync<ArgumentException>(() => client.GetAudioAsync(Sentence, Rate(44_100), Token));
    }

    [Fact]
    public async Task The_speak_socket_streams_audio_per_flush_and_acknowledges_each()
    {
        using var client = CreateClient();
        await using var session = await client.ConnectAsync(Rate(16_000), Token);

        await session.SpeakAsync("First sentence.", Token);
        await session.FlushAsync(Token);
        await session.SpeakAsync("Second one.", Token);
        await session.FlushAsync(Token);
        await session.CloseAsync(Token);
        var updates = new List<TextToSpeechResponseUpdate>();
        await foreach (var update in session.ReadUpdatesAsync(Token))
        {
            updates.Add(update);
        }

        Assert.Equal(TextToSpeechResponseUpdateKind.SessionOpen, updates[0].Kind);
        var flushed = updates.Where(u => u.Kind == TextToSpeechResponseUpdateKind.AudioUpdated).Select(u => u.AdditionalProperties![DeepgramSpeakSession.SequenceIdKey]).ToList();
        Assert.Equal([0, 1], flushed);
        var firstAudio = updates.TakeWhile(u => u.Kind != TextToSpeechResponseUpdateKind.AudioUpdated).SelectMany(u => u.Contents).OfType<DataContent>().SelectMany(d => d.Data.ToArray()).ToArray();
        Assert.Equal(await SpokenWav.SynthesizePcmAsync("First sentence.", 16_000, cancellationToken: Token), firstAudio);
    }

    [Fact]
    public async Task Clear_stops_pending_audio_and_is_acknowledged()
    {
        var release = new TaskCompletionSource();
        _emulator.Options.Faults.BeforeSpeakChunk = (index, ct) => index == 0 ? Task.CompletedTask : release.Task.WaitAsync(ct);
        using var client = CreateClient();
        await using var session = await client.ConnectAsync(cancellationToken: Token);
        await session.SpeakAsync("A long answer that the user interrupts.", Token);
        await session.FlushAsync(Token);
        var updates = new List<TextToSpeechResponseUpdate>();

        await foreach (var update in session.ReadUpdatesAsync(Token))
        {
            updates.Add(update);
            if (update.Kind == TextToSpeechResponseUpdateKind.AudioUpdating && updates.Count(u => u.Kind == TextToSpeechResponseUpdateKind.AudioUpdating) == 1)
            {
                await session.ClearAsync(Token);
            }
            else if (update.Kind == DeepgramSpeakSession.Cleared)
            {
                release.TrySetResult();
                await session.CloseAsync(Token);
            }
        }

        Assert.Single(updates, u => u.Kind == TextToSpeechResponseUpdateKind.AudioUpdating);
        Assert.Single(updates, u => u.Kind == DeepgramSpeakSession.Cleared);
        Assert.DoesNotContain(updates, u => u.Kind == TextToSpeechResponseUpdateKind.AudioUpdated);
    }

    [Fact]
    public async Task Streamed_text_is_spoken_in_order_and_the_first_audio_arrives_before_the_last_chunk_is_sent()
    {
        using var client = CreateClient();
        var firstAudio = new TaskCompletionSource();
        var lastChunkSent = false;
        var audioBeforeLastChunk = false;
        var received = new List<byte>();

        async IAsyncEnumerable<string> Answer([EnumeratorCancellation] CancellationToken ct = default)
        {
            foreach (var chunk in new[] { "Hello", " there.", " How are", " you today?" })
            {
                yield return chunk;
                await Task.Yield();
            }

            // Were the text buffered until its end, no audio could arrive here and the wait would time out.
            await firstAudio.Task.WaitAsync(TimeSpan.FromSeconds(30), ct);
            lastChunkSent = true;
            yield return " Goodbye.";
        }

        await foreach (var update in client.GetStreamingAudioAsync(Answer(Token), Rate(16_000), Token))
        {
            Assert.Equal(TextToSpeechResponseUpdateKind.AudioUpdating, update.Kind);
            var audio = Assert.IsType<DataContent>(Assert.Single(update.Contents));
            Assert.Equal("audio/pcm;rate=16000;channels=1", audio.MediaType);
            audioBeforeLastChunk |= !lastChunkSent;
            firstAudio.TrySetResult();
            received.AddRange(audio.Data.ToArray());
        }

        Assert.True(audioBeforeLastChunk);
        byte[] expected = [
            .. await SpokenWav.SynthesizePcmAsync("Hello there.", 16_000, cancellationToken: Token),
            .. await SpokenWav.SynthesizePcmAsync("How are you today?", 16_000, cancellationToken: Token),
            .. await SpokenWav.SynthesizePcmAsync("Goodbye.", 16_000, cancellationToken: Token)];
        Assert.Equal(expected, received.ToArray());
        Assert.Equal(1, _emulator.SpeakConnections);
    }

    [Fact]
    public async Task Cancelling_streamed_speech_sends_Clear()
    {
        var release = new TaskCompletionSource();
        _emulator.Options.Faults.BeforeSpeakChunk = (index, ct) => index == 0 ? Task.CompletedTask : release.Task.WaitAsync(ct);
        using var client = CreateClient();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Token);
        try
        {
            await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
            {
                await foreach (var update in client.GetStreamingAudioAsync(Chunks("A long answer that the user interrupts. ", "It goes on and on."), cancellationToken: stop.Token))
                {
                    await stop.CancelAsync();
                }
            });

            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Token);
            timeout.CancelAfter(TimeSpan.FromSeconds(30));
            while (!_emulator.EventLog.Any(e => e.Contains("Clear received", StringComparison.Ordinal)))
            {
                await Task.Delay(20, timeout.Token);
            }
        }
        finally
        {
            release.TrySetResult();
        }
    }

    [Fact]
    public async Task A_failing_text_source_ends_the_audio_with_its_error()
    {
        using var client = CreateClient();

        async IAsyncEnumerable<string> Broken()
        {
            yield return "First sentence. ";
            await Task.Yield();
            throw new InvalidOperationException("the model failed");
        }

        var error = await Assert.ThrowsAsync<InvalidOperationException>(async () =>
        {
            await foreach (var update in client.GetStreamingAudioAsync(Broken(), cancellationToken: Token))
            {
            }
        });
        Assert.Equal("the model failed", error.Message);
    }

    private static async IAsyncEnumerable<string> Chunks(params string[] chunks)
    {
        foreach (var chunk in chunks)
        {
            await Task.Yield();
            yield return chunk;
        }
    }
}
