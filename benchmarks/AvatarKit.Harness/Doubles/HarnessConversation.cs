using System.Diagnostics;
using System.Threading.Channels;
using AvatarKit.Harness.Measuring;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;

namespace AvatarKit.Harness.Doubles;

/// <summary>
/// One conversation through the real <see cref="AvatarPipeline"/> with test doubles around it, and the
/// probes the harness measures with: every speak call, speaking start and interrupt of the avatar.
/// </summary>
internal sealed class HarnessConversation : IAsyncDisposable
{
    private readonly Channel<ConversationTurnResult> _turns = Channel.CreateUnbounded<ConversationTurnResult>();
    private readonly List<ConversationErrorEvent> _errors = [];
    private readonly Task _events;

    private HarnessConversation(AvatarPipeline pipeline, SimulatedAvatarSession avatar, ScriptedSpeechToText? speechToText)
    {
        Pipeline = pipeline;
        Avatar = avatar;
        SpeechToText = speechToText;
        avatar.SpeakCalled += SpeakCalled.Hit;
        avatar.Started += Started.Hit;
        avatar.InterruptCalled += InterruptCalled.Hit;
        // Subscribing registers the reader at once, so no event of StartAsync is missed.
        var events = pipeline.ReadEventsAsync();
        _events = Task.Run(() => ReadEventsAsync(events));
    }

    public AvatarPipeline Pipeline { get; }

    public SimulatedAvatarSession Avatar { get; }

    public ScriptedSpeechToText? SpeechToText { get; }

    public Probe SpeakCalled { get; } = new();

    public Probe Started { get; } = new();

    public Probe InterruptCalled { get; } = new();

    /// <summary>Gets a probe of the chat request's start (when the chat client is a <see cref="PacedChatClient"/>).</summary>
    public Probe ChatRequested { get; } = new();

    /// <summary>Gets a probe of the word that confirms the end of the answer's first sentence (see <see cref="StartAsync"/>).</summary>
    public Probe FirstSentenceWordSent { get; } = new();

    public IReadOnlyList<ConversationErrorEvent> Errors
    {
        get
        {
            lock (_errors)
            {
                return [.. _errors];
            }
        }
    }

    /// <summary>Builds and starts a conversation.</summary>
    /// <param name="chat">The chat client.</param>
    /// <param name="avatar">The avatar; disposed with the conversation.</param>
    /// <param name="voice">Whether to run voice input (a scripted speech-to-text client over live silence).</param>
    /// <param name="recorder">A recorder, or null.</param>
    /// <param name="loggerFactory">Where the pipeline logs, or null.</param>
    /// <param name="cancellationToken">Cancels starting.</param>
    /// <returns>The running conversation.</returns>
    public static async Task<HarnessConversation> StartAsync(
        IChatClient chat,
        SimulatedAvatarSession avatar,
        bool voice,
        ISessionRecorder? recorder = null,
        ILoggerFactory? loggerFactory = null,
        CancellationToken cancellationToken = default)
    {
        var builder = AvatarPipeline.CreateBuilder().UseChatClient(chat).UseAvatarSession(avatar);
        ScriptedSpeechToText? speechToText = null;
        if (voice)
        {
            speechToText = new ScriptedSpeechToText();
            builder.UseSpeechToText(speechToText, new SilenceAudioInput());
        }

        if (recorder is not null)
        {
            builder.UseRecording(recorder);
        }

        if (loggerFactory is not null)
        {
            builder.UseLoggerFactory(loggerFactory);
        }

        var conversation = new HarnessConversation(builder.Build(), avatar, speechToText);
        if (chat is PacedChatClient paced)
        {
            // The sentence chunker ends a sentence only once the next word shows it is not an
            // abbreviation (whitespace, then no lower-case letter), so the first sentence is
            // complete when the word after it arrives: that is where provider time ends.
            var last = Math.Min(AnswerText.FirstSentenceWords(paced.WordCount), paced.WordCount - 1);
            paced.RequestStarted += conversation.ChatRequested.Hit;
            paced.WordSent += (index, timestamp) =>
            {
                if (index == last)
                {
                    conversation.FirstSentenceWordSent.Hit(timestamp);
                }
            };
        }

        await conversation.Pipeline.StartAsync(cancellationToken).ConfigureAwait(false);
        if (speechToText is not null)
        {
            await speechToText.Connected.WaitAsync(TimeSpan.FromSeconds(10), cancellationToken).ConfigureAwait(false);
        }

        return conversation;
    }

    /// <summary>
    /// Arms the probes of one turn's pipeline overhead: the time the pipeline's own code takes from the
    /// turn being sent to the chat request, plus from the word that completes the first sentence to
    /// the avatar's speak call. Provider time (waiting for tokens) is excluded, so it holds at any latency.
    /// </summary>
    /// <returns>A function of the send timestamp that gives the overhead.</returns>
    public Func<long, Task<TimeSpan>> ArmOverhead()
    {
        var requested = ChatRequested.Arm();
        var word = FirstSentenceWordSent.Arm();
        var speak = SpeakCalled.Arm();
        return async sent =>
        {
            var request = await requested.ConfigureAwait(false);
            var lastWord = await word.ConfigureAwait(false);
            var spoke = await speak.ConfigureAwait(false);
            return Stopwatch.GetElapsedTime(sent, request) + Stopwatch.GetElapsedTime(lastWord, spoke);
        };
    }

    /// <summary>Waits for the next finished turn.</summary>
    /// <param name="timeout">How long to wait.</param>
    /// <returns>The turn's result.</returns>
    public async Task<ConversationTurnResult> NextTurnAsync(TimeSpan timeout)
    {
        using var cancellation = new CancellationTokenSource(timeout);
        return await _turns.Reader.ReadAsync(cancellation.Token).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        await Pipeline.DisposeAsync().ConfigureAwait(false);
        await _events.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        await Avatar.DisposeAsync().ConfigureAwait(false);
    }

    private async Task ReadEventsAsync(IAsyncEnumerable<ConversationEvent> events)
    {
        await foreach (var e in events.ConfigureAwait(false))
        {
            switch (e)
            {
                case TurnCompletedEvent completed:
                    _turns.Writer.TryWrite(completed.Result);
                    break;
                case ConversationErrorEvent error:
                    lock (_errors)
                    {
                        _errors.Add(error);
                    }

                    break;
            }
        }

        _turns.Writer.TryComplete();
    }
}
