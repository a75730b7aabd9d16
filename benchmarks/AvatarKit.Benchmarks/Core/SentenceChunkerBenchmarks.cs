using BenchmarkDotNet.Attributes;

namespace AvatarKit.Benchmarks.Core;

/// <summary>Sentence chunking of a streamed LLM answer, fed as ~4-character tokens.</summary>
[MemoryDiagnoser]
public class SentenceChunkerBenchmarks
{
    private string[] _tokens = [];

    [GlobalSetup]
    public void Setup()
    {
        const string answer = "Dr. Smith measured 3.14 units, e.g. in the lab. Was it right? Yes! " +
            "Then he wrote \"done.\" and left… Привет, мир. 你好。今天天气很好！ ";
        var text = string.Concat(Enumerable.Repeat(answer, 20));
        _tokens = Enumerable.Range(0, (text.Length + 3) / 4).Select(i => text.Substring(i * 4, Math.Min(4, text.Length - i * 4))).ToArray();
    }

    /// <summary>One whole answer (about 2.9 k characters, 200 sentences).</summary>
    [Benchmark]
    public int ChunkAnswer()
    {
        var chunker = new SentenceChunker();
        var count = 0;
        foreach (var token in _tokens)
        {
            chunker.Append(token);
            while (chunker.TryTakeSentence(out _))
            {
                count++;
            }
        }

        return count + (chunker.Complete() is null ? 0 : 1);
    }
}
