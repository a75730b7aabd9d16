using System.Text;
using AvatarKit.Llm.Gemini;
using BenchmarkDotNet.Attributes;

namespace AvatarKit.Benchmarks.Llm;

/// <summary>
/// Parsing a Gemini <c>streamGenerateContent?alt=sse</c> body: SSE framing alone, and framing plus
/// JSON plus the M.E.AI update, per event (<see cref="Events"/> events per operation).
/// </summary>
[MemoryDiagnoser]
public class GeminiSseBenchmarks
{
    private const int Events = 200;
    private byte[] _body = [];

    [GlobalSetup]
    public void Setup()
    {
        var text = new StringBuilder();
        for (var i = 0; i < Events; i++)
        {
            var last = i == Events - 1;
            text.Append("data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\" and the waves roll on, chunk ")
                .Append(i)
                .Append(" of the answer\"}],\"role\":\"model\"}")
                .Append(last ? ",\"finishReason\":\"STOP\"" : "")
                .Append(",\"index\":0}],\"usageMetadata\":{\"promptTokenCount\":9,")
                .Append(last ? "\"candidatesTokenCount\":1400," : "")
                .Append("\"totalTokenCount\":9,\"serviceTier\":\"standard\"},\"modelVersion\":\"gemini-2.5-flash\",\"responseId\":\"mXlIaaXyLJ2ekdUPq9m8wQ4\"}\r\n\r\n");
        }

        _body = Encoding.UTF8.GetBytes(text.ToString());
    }

    [Benchmark(OperationsPerInvoke = Events)]
    public async Task<int> SseFramingPerEvent()
    {
        using var reader = new SseEventReader(new MemoryStream(_body, writable: false));
        var bytes = 0;
        while (await reader.MoveNextAsync())
        {
            bytes += reader.Current.Length;
        }

        return bytes;
    }

    [Benchmark(OperationsPerInvoke = Events)]
    public async Task<int> ChatResponseUpdatePerEvent()
    {
        using var reader = new SseEventReader(new MemoryStream(_body, writable: false));
        var count = 0;
        while (await reader.MoveNextAsync())
        {
            var chunk = System.Text.Json.JsonSerializer.Deserialize(reader.Current.Span, GeminiJsonContext.Default.GenerateContentResponse)!;
            count += GeminiChatMapper.ToUpdate(chunk).Contents.Count;
        }

        return count;
    }
}
