using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AvatarKit;

/// <summary>
/// Builds an <see cref="AvatarPipeline"/> from plain code:
/// <c>AvatarPipeline.CreateBuilder().UseSpeechToText(stt, mic).UseChatClient(chat).UseAvatar(service).UseRecording(recorder).Build()</c>.
/// The DI registration (<c>services.AddAvatarKit().AddPipeline()</c>) goes through this builder too,
/// so both give the same pipeline.
/// </summary>
public sealed class AvatarPipelineBuilder
{
    private readonly List<Action<AvatarPipelineOptions>> _configure = [];
    private AvatarPipelineOptions? _options;
    private IChatClient? _chatClient;
    private ISpeechToTextClient? _speechToText;
    private IAudioInput? _audioInput;
    private IAvatarService? _avatarService;
    private AvatarSessionOptions? _sessionOptions;
    private IAvatarSession? _avatarSession;
    private ISessionRecorder? _recorder;
    private ILoggerFactory? _loggerFactory;
    private TimeProvider? _timeProvider;

    /// <summary>Sets the chat client (LLM) that answers the user. Required.</summary>
    /// <param name="chatClient">Any Microsoft.Extensions.AI chat client.</param>
    /// <returns>This builder.</returns>
    public AvatarPipelineBuilder UseChatClient(IChatClient chatClient)
    {
        _chatClient = Throw.IfNull(chatClient);
        return this;
    }

    /// <summary>Sets the speech-to-text client for voice input, and optionally the audio it listens to.</summary>
    /// <param name="speechToText">A streaming speech-to-text client (see <see cref="SpeechTurnSignals"/> for the turn signals it may send).</param>
    /// <param name="audioInput">The microphone or other audio source; set later with <see cref="UseAudioInput"/> when null.</param>
    /// <returns>This builder.</returns>
    public AvatarPipelineBuilder UseSpeechToText(ISpeechToTextClient speechToText, IAudioInput? audioInput = null)
    {
        _speechToText = Throw.IfNull(speechToText);
        _audioInput = audioInput ?? _audioInput;
        return this;
    }

    /// <summary>Sets the audio voice input listens to.</summary>
    /// <param name="audioInput">The microphone or other audio source.</param>
    /// <returns>This builder.</returns>
    public AvatarPipelineBuilder UseAudioInput(IAudioInput audioInput)
    {
        _audioInput = Throw.IfNull(audioInput);
        return this;
    }

    /// <summary>Sets the avatar service; the pipeline starts a session on <see cref="AvatarPipeline.StartAsync"/> and stops it at the end.</summary>
    /// <param name="avatarService">The avatar provider.</param>
    /// <param name="sessionOptions">The session's avatar, voice and quality; the provider's defaults when null.</param>
    /// <returns>This builder.</returns>
    public AvatarPipelineBuilder UseAvatar(IAvatarService avatarService, AvatarSessionOptions? sessionOptions = null)
    {
        _avatarService = Throw.IfNull(avatarService);
        _sessionOptions = sessionOptions ?? _sessionOptions;
        _avatarSession = null;
        return this;
    }

    /// <summary>Uses a session the caller started and will stop (the pipeline does not dispose it).</summary>
    /// <param name="session">The started session.</param>
    /// <returns>This builder.</returns>
    public AvatarPipelineBuilder UseAvatarSession(IAvatarSession session)
    {
        _avatarSession = Throw.IfNull(session);
        _avatarService = null;
        return this;
    }

    /// <summary>Records the session (whole session and one clip per answer).</summary>
    /// <param name="recorder">The recorder.</param>
    /// <returns>This builder.</returns>
    public AvatarPipelineBuilder UseRecording(ISessionRecorder recorder)
    {
        _recorder = Throw.IfNull(recorder);
        return this;
    }

    /// <summary>Sets where the pipeline logs.</summary>
    /// <param name="loggerFactory">The logger factory.</param>
    /// <returns>This builder.</returns>
    public AvatarPipelineBuilder UseLoggerFactory(ILoggerFactory loggerFactory)
    {
        _loggerFactory = Throw.IfNull(loggerFactory);
        return this;
    }

    /// <summary>Sets the clock used for latencies and timeouts (tests use a fake one).</summary>
    /// <param name="timeProvider">The clock.</param>
    /// <returns>This builder.</returns>
    public AvatarPipelineBuilder UseTimeProvider(TimeProvider timeProvider)
    {
        _timeProvider = Throw.IfNull(timeProvider);
        return this;
    }

    /// <summary>Uses these options as the starting point (e.g. bound from configuration).</summary>
    /// <param name="options">The options; copied when built.</param>
    /// <returns>This builder.</returns>
    public AvatarPipelineBuilder UseOptions(AvatarPipelineOptions options)
    {
        _options = Throw.IfNull(options);
        return this;
    }

    /// <summary>Changes settings; calls apply in order.</summary>
    /// <param name="configure">Changes the options.</param>
    /// <returns>This builder.</returns>
    public AvatarPipelineBuilder Configure(Action<AvatarPipelineOptions> configure)
    {
        _configure.Add(Throw.IfNull(configure));
        return this;
    }

    /// <summary>Builds the pipeline; call <see cref="AvatarPipeline.StartAsync"/> to start the conversation.</summary>
    /// <returns>The pipeline.</returns>
    /// <exception cref="InvalidOperationException">The chat client or the avatar is missing.</exception>
    /// <exception cref="OptionsValidationException">A setting is out of range; the message names each one.</exception>
    public AvatarPipeline Build()
    {
        var chatClient = _chatClient ?? throw new InvalidOperationException(
            "The pipeline needs a chat client: call UseChatClient(…) (or register an IChatClient, e.g. AddGemini()).");
        if (_avatarService is null && _avatarSession is null)
        {
            throw new InvalidOperationException(
                "The pipeline needs an avatar: call UseAvatar(service) or UseAvatarSession(session) (or register an IAvatarService, e.g. AddLiveAvatar()).");
        }

        var options = Copy(_options ?? new AvatarPipelineOptions());
        if (_sessionOptions is not null)
        {
            options.Session = _sessionOptions;
        }

        foreach (var configure in _configure)
        {
            configure(options);
        }

        var errors = options.Validate();
        if (errors.Count > 0)
        {
            throw new OptionsValidationException(nameof(AvatarPipelineOptions), typeof(AvatarPipelineOptions), errors.Select(e => $"{nameof(AvatarPipelineOptions)}: {e}"));
        }

        return new AvatarPipeline(options, chatClient, _avatarService, _avatarSession, _speechToText, _audioInput, _recorder, _loggerFactory, _timeProvider);
    }

    private static AvatarPipelineOptions Copy(AvatarPipelineOptions source) => new()
    {
        SystemPrompt = source.SystemPrompt,
        MaxHistoryMessages = source.MaxHistoryMessages,
        SilenceTimeout = source.SilenceTimeout,
        BargeIn = source.BargeIn,
        VoiceInput = source.VoiceInput,
        InputFormat = source.InputFormat,
        SpeakingIdleTimeout = source.SpeakingIdleTimeout,
        MaxSpeechToTextRetries = source.MaxSpeechToTextRetries,
        MaxSentenceLength = source.MaxSentenceLength,
        Session = source.Session,
        ChatOptions = source.ChatOptions?.Clone(),
        Recording = source.Recording,
        RecordingFinalizeTimeout = source.RecordingFinalizeTimeout,
    };
}
