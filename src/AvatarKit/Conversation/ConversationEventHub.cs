using System.Runtime.CompilerServices;
using System.Threading.Channels;

namespace AvatarKit;

/// <summary>
/// Fans conversation events out to every reader. Each reader has its own bounded channel; a reader
/// that falls more than <see cref="Capacity"/> events behind loses the oldest, so a slow reader never
/// stalls the conversation.
/// </summary>
internal sealed class ConversationEventHub
{
    public const int Capacity = 4096;

    private readonly Lock _lock = new();
    private readonly List<Channel<ConversationEvent>> _readers = [];
    private bool _completed;

    public IAsyncEnumerable<ConversationEvent> Subscribe(CancellationToken cancellationToken)
    {
        var channel = Channel.CreateBounded<ConversationEvent>(new BoundedChannelOptions(Capacity)
        {
            FullMode = BoundedChannelFullMode.DropOldest,
            SingleReader = true,
        });
        lock (_lock)
        {
            if (_completed)
            {
                channel.Writer.TryComplete();
            }
            else
            {
                _readers.Add(channel);
            }
        }

        return ReadAsync(channel, cancellationToken);
    }

    public void Publish(ConversationEvent conversationEvent)
    {
        lock (_lock)
        {
            foreach (var reader in _readers)
            {
                reader.Writer.TryWrite(conversationEvent);
            }
        }
    }

    public void Complete()
    {
        lock (_lock)
        {
            _completed = true;
            foreach (var reader in _readers)
            {
                reader.Writer.TryComplete();
            }

            _readers.Clear();
        }
    }

    private async IAsyncEnumerable<ConversationEvent> ReadAsync(Channel<ConversationEvent> channel, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var item in channel.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                yield return item;
            }
        }
        finally
        {
            lock (_lock)
            {
                _readers.Remove(channel);
            }
        }
    }
}
