using System.Diagnostics;
using Microsoft.Extensions.AI;
using SkiaSharp;

namespace AvatarKit.Testing;

/// <summary>
/// The avatar's participant in an emulated session: joins the session's room, publishes an audio
/// track and a video track of an animated face whose mouth follows the speech level, with a caption
/// of what it is saying. Speech comes from text (through an optional <see cref="ITextToSpeechClient"/>,
/// otherwise a synthesized babble paced by the text length) or from PCM the client streams (LITE).
/// Audio plays in real time, utterance after utterance; <see cref="Interrupt"/> drops everything queued.
/// </summary>
public sealed class EmulatedAvatar : IAsyncDisposable
{
    private static readonly TimeSpan AudioFrameDuration = TimeSpan.FromMilliseconds(20);
    private static readonly TimeSpan AudioLead = TimeSpan.FromMilliseconds(60);

    private readonly EmulatedAvatarOptions _options;
    private readonly ITextToSpeechClient? _textToSpeech;
    private readonly ILocalAudioTrack _audio;
    private readonly ILocalVideoTrack _video;
    private readonly Lock _gate = new();
    private readonly LinkedList<Utterance> _queue = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _audioLoop;
    private readonly Task _videoLoop;
    private double _level;
    private string? _caption;
    private long _framesPublished;
    private int _disposed;

    private EmulatedAvatar(IRealtimeRoom room, ILocalAudioTrack audio, ILocalVideoTrack video, EmulatedAvatarOptions options, ITextToSpeechClient? textToSpeech)
    {
        Room = room;
        _audio = audio;
        _video = video;
        _options = options;
        _textToSpeech = textToSpeech;
        _audioLoop = Task.Run(() => RunAudioAsync(_stop.Token));
        _videoLoop = Task.Run(() => RunVideoAsync(_stop.Token));
    }

    /// <summary>Raised when the first audio of an utterance plays.</summary>
    public event EventHandler<EmulatedSpeechEventArgs>? SpeakingStarted;

    /// <summary>Raised when an utterance played to its end or was interrupted.</summary>
    public event EventHandler<EmulatedSpeechEventArgs>? SpeakingEnded;

    /// <summary>Gets the avatar's connection to its room.</summary>
    public IRealtimeRoom Room { get; }

    /// <summary>Gets the caption currently drawn (the text being spoken), or <see langword="null"/> when silent.</summary>
    public string? Caption => Volatile.Read(ref _caption);

    /// <summary>Gets how many video frames were published.</summary>
    public long FramesPublished => Interlocked.Read(ref _framesPublished);

    /// <summary>Gets a value indicating whether an utterance is playing or queued.</summary>
    public bool IsSpeaking
    {
        get
        {
            lock (_gate)
            {
                return _queue.Count > 0;
            }
        }
    }

    /// <summary>Joins <paramref name="roomName"/> through <paramref name="host"/> and starts publishing.</summary>
    /// <param name="host">Where the room lives.</param>
    /// <param name="roomName">The session's room.</param>
    /// <param name="options">Looks and pacing; defaults when null.</param>
    /// <param name="textToSpeech">Turns text into speech; a synthesized babble when null.</param>
    /// <param name="cancellationToken">Cancels joining.</param>
    /// <returns>The avatar, publishing.</returns>
    public static async Task<EmulatedAvatar> JoinAsync(IEmulatorRoomHost host, string roomName, EmulatedAvatarOptions? options = null, ITextToSpeechClient? textToSpeech = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(host);
        options ??= new EmulatedAvatarOptions();
        var grant = host.CreateGrant(roomName, options.Identity);
        var room = await host.Connector.ConnectAsync(grant.Url, grant.Token, cancellationToken).ConfigureAwait(false);
        try
        {
            var audio = await room.PublishAudioAsync("avatar-audio", options.AudioFormat, cancellationToken).ConfigureAwait(false);
            var video = await room.PublishVideoAsync("avatar-video", options.Width, options.Height, cancellationToken).ConfigureAwait(false);
            return new EmulatedAvatar(room, audio, video, options, textToSpeech);
        }
        catch
        {
            await room.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Queues <paramref name="text"/> as one utterance: speech is synthesized, then played after what is already queued.</summary>
    /// <param name="utteranceId">The utterance's id, reported in the speaking events.</param>
    /// <param name="text">What to say.</param>
    /// <param name="cancellationToken">Cancels synthesis.</param>
    /// <returns>The length of the queued speech.</returns>
    public async Task<TimeSpan> SayAsync(string utteranceId, string text, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(text);
        var utterance = Enqueue(utteranceId, text);
        var pcm = _textToSpeech is null
            ? SpeechAudio.Babble(text, _options.AudioFormat, _options.BabbleCharactersPerSecond, _options.MinimumUtterance)
            : await SpeechAudio.SynthesizeAsync(_textToSpeech, text, _options.AudioFormat, cancellationToken).ConfigureAwait(false);
        lock (_gate)
        {
            utterance.Append(pcm);
            utterance.Committed = true;
        }

        return _options.AudioFormat.GetDuration(pcm.Length);
    }

    /// <summary>Appends streamed PCM (in <see cref="EmulatedAvatarOptions.AudioFormat"/>) to an utterance, creating it when new.</summary>
    /// <param name="utteranceId">The utterance's id.</param>
    /// <param name="pcm">PCM16 bytes.</param>
    public void AppendAudio(string utteranceId, ReadOnlySpan<byte> pcm)
    {
        lock (_gate)
        {
            (Find(utteranceId) ?? Enqueue(utteranceId, text: null)).Append(pcm);
        }
    }

    /// <summary>Marks a streamed utterance complete: it ends once its audio has played.</summary>
    /// <param name="utteranceId">The utterance's id.</param>
    /// <returns><see langword="false"/> when no such utterance is queued.</returns>
    public bool CommitUtterance(string utteranceId)
    {
        lock (_gate)
        {
            if (Find(utteranceId) is { } utterance)
            {
                utterance.Committed = true;
                return true;
            }

            return false;
        }
    }

    /// <summary>Stops the current utterance and drops every queued one.</summary>
    /// <returns>The utterance that was playing, or <see langword="null"/> when none had started.</returns>
    public string? Interrupt()
    {
        Utterance? playing;
        lock (_gate)
        {
            playing = _queue.First?.Value is { Started: true } first ? first : null;
            _queue.Clear();
        }

        Volatile.Write(ref _caption, null);
        if (playing is not null)
        {
            SpeakingEnded?.Invoke(this, new EmulatedSpeechEventArgs(playing.Id, playing.Text, interrupted: true));
        }

        return playing?.Id;
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _stop.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(_audioLoop, _videoLoop).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        await _audio.DisposeAsync().ConfigureAwait(false);
        await _video.DisposeAsync().ConfigureAwait(false);
        await Room.DisposeAsync().ConfigureAwait(false);
        _stop.Dispose();
    }

    private Utterance Enqueue(string id, string? text)
    {
        var utterance = new Utterance(id, text);
        lock (_gate)
        {
            _queue.AddLast(utterance);
        }

        return utterance;
    }

    private Utterance? Find(string id)
    {
        for (var node = _queue.First; node is not null; node = node.Next)
        {
            if (node.Value.Id == id)
            {
                return node.Value;
            }
        }

        return null;
    }

    private async Task RunAudioAsync(CancellationToken cancellationToken)
    {
        var format = _options.AudioFormat;
        var frameBytes = format.GetByteCount(AudioFrameDuration);
        var clock = Stopwatch.StartNew();
        long sent = 0;
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                // Real-time pacing with a small lead, so that timing in events matches what a listener hears.
                var due = AudioFrameDuration * sent - clock.Elapsed - AudioLead;
                if (due > TimeSpan.Zero)
                {
                    await Task.Delay(due, cancellationToken).ConfigureAwait(false);
                }

                using var frame = AudioFrame.Rent(format, frameBytes, AudioFrameDuration * sent);
                frame.Span.Clear();
                var (started, ended) = Fill(frame.Span);
                if (started is not null)
                {
                    Volatile.Write(ref _caption, started.Text);
                    SpeakingStarted?.Invoke(this, new EmulatedSpeechEventArgs(started.Id, started.Text, interrupted: false));
                }

                if (ended is not null)
                {
                    Volatile.Write(ref _caption, null);
                    SpeakingEnded?.Invoke(this, new EmulatedSpeechEventArgs(ended.Id, ended.Text, interrupted: false));
                }

                var rms = Pcm16.GetRmsDbfs(frame.Samples);
                Volatile.Write(ref _level, Math.Clamp((rms + 50) / 40, 0, 1));
                await _audio.WriteAsync(frame, cancellationToken).ConfigureAwait(false);
                sent++;
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    private (Utterance? Started, Utterance? Ended) Fill(Span<byte> destination)
    {
        lock (_gate)
        {
            var current = _queue.First?.Value;
            if (current is null)
            {
                return (null, null);
            }

            var read = current.Read(destination);
            Utterance? started = null;
            if (read > 0 && !current.Started)
            {
                current.Started = true;
                started = current;
            }

            if (current.Committed && current.Available == 0)
            {
                _queue.RemoveFirst();

                // An empty committed utterance still reports a start, so that ended always follows started.
                if (!current.Started)
                {
                    current.Started = true;
                    started = current;
                }

                return (started, current);
            }

            return (started, null);
        }
    }

    private async Task RunVideoAsync(CancellationToken cancellationToken)
    {
        var width = _options.Width;
        var height = _options.Height;
        using var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Premul));
        using var canvas = new SKCanvas(bitmap);
        using var paint = new SKPaint { IsAntialias = true };
        using var typeface = CaptionTypeface.Load();
        using var font = new SKFont(typeface, Math.Max(10, height / 16f));
        var interval = TimeSpan.FromSeconds(1.0 / Math.Max(1, _options.FramesPerSecond));
        using var timer = new PeriodicTimer(interval);
        var clock = Stopwatch.StartNew();
        var mouth = 0.0;
        try
        {
            do
            {
                // Smooth the level so the mouth moves like lips, not like a VU meter.
                mouth += (Volatile.Read(ref _level) - mouth) * 0.6;
                Draw(canvas, paint, font, width, height, mouth, Caption, clock.Elapsed);
                using var frame = VideoFrame.Copy(width, height, VideoPixelFormat.Rgba, bitmap.GetPixelSpan(), clock.Elapsed);
                await _video.WriteAsync(frame, cancellationToken).ConfigureAwait(false);
                Interlocked.Increment(ref _framesPublished);
            }
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false));
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    private static void Draw(SKCanvas canvas, SKPaint paint, SKFont font, int width, int height, double mouth, string? caption, TimeSpan time)
    {
        canvas.Clear(new SKColor(36, 44, 66));
        var cx = width / 2f;
        var cy = height * 0.42f;
        var radius = Math.Min(width, height) * 0.3f;
        paint.Color = new SKColor(238, 200, 160);
        canvas.DrawCircle(cx, cy, radius, paint);

        // Blink for 150 ms every 4 s, so a frozen stream is visible in recordings.
        var blinking = time.TotalMilliseconds % 4000 < 150;
        paint.Color = new SKColor(40, 40, 48);
        var eyeY = cy - radius * 0.25f;
        var eyeHeight = blinking ? radius * 0.02f : radius * 0.1f;
        canvas.DrawOval(cx - radius * 0.38f, eyeY, radius * 0.1f, eyeHeight, paint);
        canvas.DrawOval(cx + radius * 0.38f, eyeY, radius * 0.1f, eyeHeight, paint);

        paint.Color = new SKColor(150, 50, 60);
        var mouthHeight = radius * (0.04f + 0.3f * (float)mouth);
        canvas.DrawOval(cx, cy + radius * 0.45f, radius * 0.35f, mouthHeight, paint);

        if (!string.IsNullOrEmpty(caption))
        {
            var text = caption.Length > 48 ? string.Concat(caption.AsSpan(0, 45), "...") : caption;
            paint.Color = SKColors.White;
            canvas.DrawText(text, cx, height - font.Size, SKTextAlign.Center, font, paint);
        }
    }

    private sealed class Utterance(string id, string? text)
    {
        private byte[] _buffer = [];
        private int _read;
        private int _written;

        public string Id { get; } = id;

        public string? Text { get; } = text;

        public bool Started { get; set; }

        public bool Committed { get; set; }

        public int Available => _written - _read;

        public void Append(ReadOnlySpan<byte> pcm)
        {
            if (_written + pcm.Length > _buffer.Length)
            {
                var grown = new byte[Math.Max(_buffer.Length * 2, _written - _read + pcm.Length)];
                _buffer.AsSpan(_read, _written - _read).CopyTo(grown);
                _written -= _read;
                _read = 0;
                _buffer = grown;
            }

            pcm.CopyTo(_buffer.AsSpan(_written));
            _written += pcm.Length;
        }

        public int Read(Span<byte> destination)
        {
            var count = Math.Min(destination.Length, Available);
            _buffer.AsSpan(_read, count).CopyTo(destination);
            _read += count;
            return count;
        }
    }
}
