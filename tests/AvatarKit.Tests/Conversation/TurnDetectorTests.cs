using Microsoft.Extensions.AI;
using Microsoft.Extensions.Time.Testing;

namespace AvatarKit.Tests.Conversation;

public sealed class TurnDetectorTests : IDisposable
{
    private readonly FakeTimeProvider _time = new();
    private readonly List<string> _log = [];
    private readonly TurnDetector _detector;

    public TurnDetectorTests()
    {
        _detector = new TurnDetector(
            TimeSpan.FromMilliseconds(800),
            _time,
            new TurnDetectorCallbacks(_ => _log.Add("speech"), (text, final) => _log.Add($"{(final ? "final" : "partial")}:{text}"), turn => _log.Add($"turn:{turn.Text}")));
    }

    public void Dispose() => _detector.Dispose();

    [Fact]
    public void A_plain_client_turn_ends_after_the_silence_timeout()
    {
        _detector.Process(TestSpeechToTextClient.Partial("hello"));
        _detector.Process(TestSpeechToTextClient.Final("hello there"));
        _time.Advance(TimeSpan.FromMilliseconds(799));
        Assert.DoesNotContain(_log, l => l.StartsWith("turn", StringComparison.Ordinal));

        _time.Advance(TimeSpan.FromMilliseconds(1));

        Assert.Equal(["speech", "partial:hello", "final:hello there", "turn:hello there"], _log);
    }

    [Fact]
    public void New_words_restart_the_silence_timeout_and_segments_join()
    {
        _detector.Process(TestSpeechToTextClient.Final("first part"));
        _time.Advance(TimeSpan.FromMilliseconds(500));
        _detector.Process(TestSpeechToTextClient.Partial("second"));
        _time.Advance(TimeSpan.FromMilliseconds(500));
        _detector.Process(TestSpeechToTextClient.Final("second part"));
        _time.Advance(TimeSpan.FromMilliseconds(800));

        Assert.Equal("turn:first part second part", _log[^1]);
        Assert.Single(_log, l => l.StartsWith("turn", StringComparison.Ordinal));
        Assert.Contains("partial:first part second", _log);
    }

    [Fact]
    public void Speech_final_ends_the_turn_at_once()
    {
        _detector.Process(TestSpeechToTextClient.Final("what time is it", speechFinal: true));

        Assert.Equal("turn:what time is it", _log[^1]);
        _time.Advance(TimeSpan.FromSeconds(2));
        Assert.Single(_log, l => l.StartsWith("turn", StringComparison.Ordinal));
    }

    [Fact]
    public void Utterance_end_ends_the_turn_and_speech_started_is_reported_once()
    {
        _detector.Process(TestSpeechToTextClient.Signal(SpeechTurnSignals.SpeechStarted));
        _detector.Process(TestSpeechToTextClient.Partial("good"));
        _detector.Process(TestSpeechToTextClient.Final("good morning"));
        _detector.Process(TestSpeechToTextClient.Signal(SpeechTurnSignals.UtteranceEnd));

        Assert.Equal(["speech", "partial:good", "final:good morning", "turn:good morning"], _log);
        Assert.False(_detector.InSpeech);
    }

    [Fact]
    public void Signals_without_text_commit_nothing()
    {
        _detector.Process(TestSpeechToTextClient.Signal(SpeechTurnSignals.UtteranceEnd));
        _detector.Process(TestSpeechToTextClient.Final(string.Empty, speechFinal: true));
        _detector.Flush();

        Assert.Empty(_log);
    }

    [Theory]
    [InlineData("speech_started", true)]
    [InlineData("SpeechStarted", true)]
    [InlineData("deepgram.speech_started", true)]
    [InlineData("notspeech_started", false)]
    [InlineData("utterance_end", false)]
    public void Speech_start_signals_are_recognized_by_name(string kind, bool expected) =>
        Assert.Equal(expected, SpeechTurnSignals.IsSpeechStarted(new SpeechToTextResponseUpdate { Kind = new SpeechToTextResponseUpdateKind(kind) }));

    [Fact]
    public void Speech_final_is_read_from_bool_string_or_json_values()
    {
        static SpeechToTextResponseUpdate With(object value) => new("x") { AdditionalProperties = new() { ["speech_final"] = value } };

        Assert.True(SpeechTurnSignals.IsSpeechFinal(With(true)));
        Assert.True(SpeechTurnSignals.IsSpeechFinal(new SpeechToTextResponseUpdate("x") { AdditionalProperties = new() { ["deepgram.speech_final"] = true } }));
        Assert.True(SpeechTurnSignals.IsSpeechFinal(With("true")));
        Assert.True(SpeechTurnSignals.IsSpeechFinal(With(System.Text.Json.JsonDocument.Parse("true").RootElement)));
        Assert.False(SpeechTurnSignals.IsSpeechFinal(With(false)));
        Assert.False(SpeechTurnSignals.IsSpeechFinal(new SpeechToTextResponseUpdate("x")));
    }
}
