using System.Text;
using AvatarKit.Llm.Gemini;

namespace AvatarKit.Llm.Tests.Gemini;

public sealed class SseEventReaderTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData("\r\n")]
    [InlineData("\n")]
    [InlineData("\r")]
    public async Task Events_are_split_on_any_line_ending(string eol)
    {
        var text = $"data: {{\"a\":1}}{eol}{eol}data: {{\"b\":2}}{eol}{eol}";

        var events = await ReadAsync(text, chunk: int.MaxValue);

        Assert.Equal(["{\"a\":1}", "{\"b\":2}"], events);
    }

    [Fact]
    public async Task Multi_line_data_is_joined_with_line_feeds_and_the_optional_space_is_dropped()
    {
        var events = await ReadAsync("data: first\r\ndata:second\r\ndata:  third\r\n\r\n", chunk: int.MaxValue);

        Assert.Equal(["first\nsecond\n third"], events);
    }

    [Fact]
    public async Task Comments_other_fields_and_empty_events_are_ignored()
    {
        var events = await ReadAsync(": ping\r\n\r\nevent: message\r\nid: 7\r\ndata: x\r\nretry: 10\r\n\r\n\r\n\r\ndata\r\n\r\n", chunk: int.MaxValue);

        Assert.Equal(["x", ""], events);
    }

    [Fact]
    public async Task Event_cut_before_its_blank_line_throws_truncated()
    {
        var error = await Assert.ThrowsAsync<SseTruncatedException>(() => ReadAsync("data: {\"a\":1}\r\n\r\ndata: {\"b\":", chunk: 5));

        Assert.Equal(11, error.PendingBytes);
    }

    [Fact]
    public async Task Last_event_without_blank_line_throws_truncated()
    {
        await Assert.ThrowsAsync<SseTruncatedException>(() => ReadAsync("data: {\"a\":1}\n", chunk: int.MaxValue));
    }

    [Fact]
    public async Task Events_larger_than_the_buffer_are_read_whole()
    {
        var big = new string('x', 100_000);

        var events = await ReadAsync($"data: {big}\r\n\r\ndata: small\r\n\r\n", chunk: 4096);

        Assert.Equal([big, "small"], events);
    }

    [Fact]
    public async Task Event_is_available_before_the_stream_ends()
    {
        using var pipe = new BlockingStream();
        using var reader = new SseEventReader(pipe);
        pipe.Push("data: one\r\n\r\n"u8);

        Assert.True(await reader.MoveNextAsync(Ct).AsTask().WaitAsync(TimeSpan.FromSeconds(30), Ct));
        Assert.Equal("one", Encoding.UTF8.GetString(reader.Current.Span));
        pipe.Complete();
        Assert.False(await reader.MoveNextAsync(Ct));
    }

    [Fact]
    public async Task Fuzzed_chunking_never_changes_the_events()
    {
        var random = new Random(1234);
        for (var round = 0; round < 200; round++)
        {
            var eol = random.Next(3) switch { 0 => "\r\n", 1 => "\n", _ => "\r" };
            var expected = Enumerable.Range(0, random.Next(1, 8))
                .Select(_ => "{\"text\":\"" + new string((char)random.Next('a', 'z'), random.Next(0, 300)) + " é 🙂\"}")
                .ToList();
            var text = string.Concat(expected.Select(e => $"data: {e}{eol}{eol}"));

            var events = await ReadAsync(text, chunk: random.Next(1, 64), random);

            Assert.Equal(expected, events);
        }
    }

    [Fact]
    public async Task Fuzzed_garbage_ends_with_events_or_a_truncation_error_and_never_hangs()
    {
        var random = new Random(99);
        byte[] alphabet = "data: {}\r\n:x\"é"u8.ToArray();
        for (var round = 0; round < 500; round++)
        {
            var bytes = new byte[random.Next(0, 400)];
            for (var i = 0; i < bytes.Length; i++)
            {
                bytes[i] = random.Next(4) == 0 ? (byte)random.Next(256) : alphabet[random.Next(alphabet.Length)];
            }

            var read = Task.Run(async () =>
            {
                try
                {
                    return (await ReadAllAsync(new TrickleStream(bytes, random.Next(1, 32)), Ct)).Count;
                }
                catch (SseTruncatedException)
                {
                    return -1;
                }
            }, Ct);

            await read.WaitAsync(TimeSpan.FromSeconds(30), Ct);
        }
    }

    private static Task<List<string>> ReadAsync(string text, int chunk, Random? random = null) =>
        ReadAllAsync(new TrickleStream(Encoding.UTF8.GetBytes(text), chunk, random), Ct);

    private static async Task<List<string>> ReadAllAsync(Stream stream, CancellationToken cancellationToken)
    {
        using var reader = new SseEventReader(stream);
        var events = new List<string>();
        while (await reader.MoveNextAsync(cancellationToken))
        {
            events.Add(Encoding.UTF8.GetString(reader.Current.Span));
        }

        return events;
    }

    /// <summary>Hands out at most <c>chunk</c> bytes per read (a random size up to it when given a random).</summary>
    private sealed class TrickleStream(byte[] data, int chunk, Random? random = null) : MemoryStream(data, writable: false)
    {
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var size = random is null ? chunk : random.Next(1, chunk + 1);
            return base.ReadAsync(buffer[..Math.Min(buffer.Length, size)], cancellationToken);
        }
    }

    /// <summary>A stream whose reads wait for writes, like a network body.</summary>
    private sealed class BlockingStream : Stream
    {
        private readonly System.Threading.Channels.Channel<byte[]> _chunks = System.Threading.Channels.Channel.CreateUnbounded<byte[]>();

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public void Push(ReadOnlySpan<byte> bytes) => _chunks.Writer.TryWrite(bytes.ToArray());

        public void Complete() => _chunks.Writer.Complete();

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (!await _chunks.Reader.WaitToReadAsync(cancellationToken))
            {
                return 0;
            }

            var chunk = await _chunks.Reader.ReadAsync(cancellationToken);
            chunk.CopyTo(buffer);
            return chunk.Length;
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
