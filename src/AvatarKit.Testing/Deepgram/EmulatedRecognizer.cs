namespace AvatarKit.Testing.Deepgram;

/// <summary>
/// Deterministic, real "recognition": finds speech by energy in 10 ms blocks of PCM16 and
/// transcribes each utterance with the next scripted text. Silence never yields words.
/// Times are seconds of audio since the start of the stream, as Deepgram reports them.
/// </summary>
internal sealed class EmulatedRecognizer
{
    private const double BlockSeconds = 0.01;
    private const double SecondsPerWord = 0.3;
    private readonly ListenParameters _parameters;
    private readonly DeepgramEmulator _owner;
    private readonly IEmulatedRecognitionSink _sink;
    private readonly byte[] _block;
    private int _blockFill;
    private long _blocks;
    private bool _inSpeech;
    private double _speechStart;
    private double _lastLoudEnd;
    private double _lastInterim;
    private double _windowStart;
    private double? _pendingUtteranceEnd;

    public EmulatedRecognizer(ListenParameters parameters, DeepgramEmulator owner, IEmulatedRecognitionSink sink)
    {
        _parameters = parameters;
        _owner = owner;
        _sink = sink;
        var rate = parameters.SampleRate == 0 ? 16_000 : parameters.SampleRate;
        _block = new byte[rate / 100 * parameters.Channels * 2];
    }

    /// <summary>Gets the seconds of audio processed so far.</summary>
    public double AudioSeconds => _blocks * BlockSeconds;

    public void Process(ReadOnlySpan<byte> audio)
    {
        while (!audio.IsEmpty)
        {
            var take = Math.Min(_block.Length - _blockFill, audio.Length);
            audio[..take].CopyTo(_block.AsSpan(_blockFill));
            _blockFill += take;
            audio = audio[take..];
            if (_blockFill == _block.Length)
            {
                ProcessBlock();
                _blockFill = 0;
            }
        }
    }

    /// <summary>Finalizes the current window now (Finalize, CloseStream, end of a pre-recorded file).</summary>
    public void Finalize(bool fromFinalize)
    {
        if (_inSpeech || fromFinalize)
        {
            EmitFinal(speechFinal: false, fromFinalize);
        }
    }

    private void ProcessBlock()
    {
        var start = AudioSeconds;
        _blocks++;
        var end = AudioSeconds;
        var loud = _parameters.Encoding is null or "linear16"
            && Pcm16.GetRmsDbfs(Pcm16.AsSamples(_block)) > _owner.Options.SpeechThresholdDbfs;
        if (loud)
        {
            if (!_inSpeech)
            {
                _inSpeech = true;
                _speechStart = start;
                _lastInterim = start;
                _pendingUtteranceEnd = null;
                if (_parameters.VadEvents)
                {
                    _sink.SpeechStarted(start);
                }
            }

            _lastLoudEnd = end;
        }
        else if (_inSpeech)
        {
            // Words have short gaps between them; never end speech on less than 200 ms of silence.
            var endpointing = Math.Max(200, _parameters.EndpointingMs ?? 1000) / 1000.0;
            if (end - _lastLoudEnd >= endpointing - 1e-9)
            {
                EmitFinal(speechFinal: _parameters.EndpointingMs is not null, fromFinalize: false);
            }
        }

        if (_inSpeech && _parameters.InterimResults && end - _lastInterim >= _owner.Options.InterimInterval.TotalSeconds - 1e-9)
        {
            _lastInterim = end;
            var words = Words(_owner.PeekTranscript(), _speechStart, _lastLoudEnd);
            var heard = Math.Clamp((int)((_lastLoudEnd - _speechStart) / SecondsPerWord) + 1, 1, Math.Max(1, words.Count - 1));
            _sink.Result(new EmulatedResult(_windowStart, end - _windowStart, IsFinal: false, SpeechFinal: false, FromFinalize: false, words.Take(heard).ToList()));
        }

        if (_pendingUtteranceEnd is { } lastWordEnd && _parameters.UtteranceEndMs is { } utteranceEndMs && end - lastWordEnd >= utteranceEndMs / 1000.0 - 1e-9)
        {
            _pendingUtteranceEnd = null;
            _sink.UtteranceEnd(lastWordEnd);
        }
    }

    private void EmitFinal(bool speechFinal, bool fromFinalize)
    {
        var now = AudioSeconds;
        List<EmulatedWord> words = [];
        if (_inSpeech)
        {
            words = Words(_owner.TakeTranscript(), _speechStart, _lastLoudEnd);
            _pendingUtteranceEnd = words.Count > 0 ? words[^1].End : null;
        }

        _sink.Result(new EmulatedResult(_windowStart, now - _windowStart, IsFinal: true, speechFinal && words.Count > 0, fromFinalize, words));
        _windowStart = now;
        _inSpeech = false;
    }

    private List<EmulatedWord> Words(string transcript, double start, double end)
    {
        var tokens = transcript.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        var result = new List<EmulatedWord>(tokens.Length);
        var step = tokens.Length == 0 ? 0 : Math.Max(end - start, 0.01) / tokens.Length;
        for (var i = 0; i < tokens.Length; i++)
        {
            var bare = new string(tokens[i].Where(c => char.IsLetterOrDigit(c) || c == '\'').ToArray()).ToLowerInvariant();
            var punctuated = _parameters.Punctuate ? tokens[i] : bare;
            result.Add(new EmulatedWord(bare, punctuated, start + i * step, start + (i + 1) * step));
        }

        return result;
    }
}

/// <summary>Receives what an <see cref="EmulatedRecognizer"/> recognizes.</summary>
internal interface IEmulatedRecognitionSink
{
    void Result(EmulatedResult result);

    void SpeechStarted(double timestamp);

    void UtteranceEnd(double lastWordEnd);
}
