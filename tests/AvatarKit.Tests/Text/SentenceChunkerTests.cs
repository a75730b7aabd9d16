namespace AvatarKit.Tests.Text;

public sealed class SentenceChunkerTests
{
    // Each case: the text, then the sentences it must give, separated by '|'.
    public static TheoryData<string, string> Cases => new()
    {
        { "Hello there. How are you?", "Hello there.|How are you?" },
        { "Wow! Really? Yes.", "Wow!|Really?|Yes." },
        { "Pi is about 3.14 and e is 2.718. Nice.", "Pi is about 3.14 and e is 2.718.|Nice." },
        { "It costs $1,299.99 today. Buy it.", "It costs $1,299.99 today.|Buy it." },
        { "Dr. Smith arrived. He sat down.", "Dr. Smith arrived.|He sat down." },
        { "Mr. and Mrs. Jones left. Bye.", "Mr. and Mrs. Jones left.|Bye." },
        { "Use a fruit, e.g. an apple. Or not.", "Use a fruit, e.g. an apple.|Or not." },
        { "That is, i.e. the end. Next one.", "That is, i.e. the end.|Next one." },
        { "J. R. R. Tolkien wrote it. Read it.", "J. R. R. Tolkien wrote it.|Read it." },
        { "Wait... What happened?", "Wait...|What happened?" },
        { "Well… I see. Okay.", "Well…|I see.|Okay." },
        { "Hmm... let me think. Done.", "Hmm... let me think.|Done." },
        { "He said \"Hi.\" Then he left.", "He said \"Hi.\"|Then he left." },
        { "She asked 'why?' and smiled. End.", "She asked 'why?' and smiled.|End." },
        { "«Привет.» Он ушёл.", "«Привет.»|Он ушёл." },
        { "(This is an aside.) Back to it.", "(This is an aside.)|Back to it." },
        { "Really?! No way.", "Really?!|No way." },
        { "Great! 😀 See you soon.", "Great!|😀 See you soon." },
        { "I love it 🎉. Thanks!", "I love it 🎉.|Thanks!" },
        { "Привет, мир. Как дела? Хорошо!", "Привет, мир.|Как дела?|Хорошо!" },
        { "Это т.е. пример. Второе.", "Это т.е. пример.|Второе." },
        { "Москва, ул. Тверская. Дом 1.", "Москва, ул. Тверская.|Дом 1." },
        { "Guten Tag. Wie geht's?", "Guten Tag.|Wie geht's?" },
        { "Obst, z.B. Äpfel, ist gesund. Ja.", "Obst, z.B. Äpfel, ist gesund.|Ja." },
        { "Das ist Nr. 5 im Katalog. Gut.", "Das ist Nr. 5 im Katalog.|Gut." },
        { "Äpfel sind gut. Über alles.", "Äpfel sind gut.|Über alles." },
        { "你好。今天天气很好！你呢？", "你好。|今天天气很好！|你呢？" },
        { "こんにちは。元気ですか？", "こんにちは。|元気ですか？" },
        { "他说：「好。」然后走了。", "他说：「好。」|然后走了。" },
        { "Version 2.0.1 is out. Update now.", "Version 2.0.1 is out.|Update now." },
        { "1. First item 2. Second item", "1. First item 2.|Second item" },
        { "Steps:\n1. Open it.\n2. Close it.", "Steps:\n1. Open it.|2. Close it." },
        { "I was born in 1990. Then I moved.", "I was born in 1990.|Then I moved." },
        { "Visit example.com today. Thanks.", "Visit example.com today.|Thanks." },
        { "No punctuation at the end", "No punctuation at the end" },
        { "First paragraph\n\nSecond paragraph", "First paragraph|Second paragraph" },
        { "Line one\nstill the same sentence.", "Line one\nstill the same sentence." },
        { "   Leading spaces. Trailing spaces.   ", "Leading spaces.|Trailing spaces." },
        { "It's 5 p.m. now. Late.", "It's 5 p.m. now.|Late." },
        { "The U.S. economy grew. Stocks rose.", "The U.S. economy grew.|Stocks rose." },
        { "", "" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Whole_text_gives_the_expected_sentences(string text, string expected) =>
        Assert.Equal(Expected(expected), SentenceChunker.Split(text));

    [Theory]
    [MemberData(nameof(Cases))]
    public void One_character_at_a_time_gives_the_same_sentences(string text, string expected) =>
        Assert.Equal(Expected(expected), Feed(text, EnumerateRunes(text)));

    [Theory]
    [MemberData(nameof(Cases))]
    public void Random_chunk_sizes_give_the_same_sentences(string text, string expected)
    {
        for (var seed = 0; seed < 20; seed++)
        {
            var random = new Random(seed);
            Assert.Equal(Expected(expected), Feed(text, RandomChunks(text, random)));
        }
    }

    [Fact]
    public async Task Streaming_yields_the_first_sentence_before_the_stream_ends()
    {
        var secondChunkRequested = new TaskCompletionSource();
        var release = new TaskCompletionSource();

        async IAsyncEnumerable<string> Tokens()
        {
            yield return "Hello there. ";
            yield return "How";
            secondChunkRequested.TrySetResult();
            await release.Task;
            yield return " are you?";
        }

        await using var sentences = SentenceChunker.SplitAsync(Tokens(), TestContext.Current.CancellationToken).GetAsyncEnumerator(TestContext.Current.CancellationToken);
        Assert.True(await sentences.MoveNextAsync());
        Assert.Equal("Hello there.", sentences.Current);
        Assert.False(release.Task.IsCompleted);
        release.SetResult();
        Assert.True(await sentences.MoveNextAsync());
        Assert.Equal("How are you?", sentences.Current);
        Assert.False(await sentences.MoveNextAsync());
    }

    [Fact]
    public void Overlong_text_without_punctuation_is_split_at_a_space()
    {
        var words = string.Join(' ', Enumerable.Repeat("word", 200));
        var chunker = new SentenceChunker(maxSentenceLength: 100);

        chunker.Append(words);
        var sentences = new List<string>();
        while (chunker.TryTakeSentence(out var sentence))
        {
            sentences.Add(sentence);
        }

        Assert.NotEmpty(sentences);
        Assert.All(sentences, s => Assert.InRange(s.Length, 50, 100));
        Assert.All(sentences, s => Assert.DoesNotContain("wor d", s, StringComparison.Ordinal));
    }

    [Fact]
    public void Reset_drops_pending_text()
    {
        var chunker = new SentenceChunker();
        chunker.Append("Half a sent");
        chunker.Reset();
        chunker.Append("New one.");
        Assert.Equal("New one.", chunker.Complete());
    }

    private static string[] Expected(string expected) => expected.Length == 0 ? [] : expected.Split('|');

    private static List<string> Feed(string text, IEnumerable<string> chunks)
    {
        var chunker = new SentenceChunker();
        var sentences = new List<string>();
        foreach (var chunk in chunks)
        {
            chunker.Append(chunk);
            while (chunker.TryTakeSentence(out var sentence))
            {
                sentences.Add(sentence);
            }
        }

        if (chunker.Complete() is { } last)
        {
            sentences.Add(last);
        }

        Assert.Equal(string.Concat(chunks), text);
        return sentences;
    }

    private static IEnumerable<string> EnumerateRunes(string text) => text.EnumerateRunes().Select(r => r.ToString());

    private static List<string> RandomChunks(string text, Random random)
    {
        var chunks = new List<string>();
        for (var i = 0; i < text.Length;)
        {
            var length = Math.Min(random.Next(1, 8), text.Length - i);
            chunks.Add(text.Substring(i, length));
            i += length;
        }

        return chunks;
    }
}
