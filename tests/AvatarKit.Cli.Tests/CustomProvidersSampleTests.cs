using System.Collections.Concurrent;
using System.Net;
using System.Reflection;
using System.Text;
using System.Text.Json.Nodes;
using AvatarKit.Testing.Voice;
using CliWrap;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace AvatarKit.Cli.Tests;

/// <summary>Runs samples/AvatarKit.CustomProviders as a process against a local OpenAI-compatible endpoint.</summary>
public sealed class CustomProvidersSampleTests
{
    private const string Answer = "A talking avatar is a digital face that speaks your words. It moves its lips in time with the voice.";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task The_sample_s_own_chat_client_streams_the_answer_and_the_avatar_speaks_it()
    {
        await using var endpoint = await OpenAiCompatibleEndpoint.StartAsync(Ct);

        var (exitCode, output) = await RunSampleAsync(endpoint, []);

        Assert.True(exitCode == 0, output);
        Assert.Contains($"avatar said (Completed, ", output, StringComparison.Ordinal);
        Assert.Contains($"): {Answer}", output, StringComparison.Ordinal);
        var request = Assert.Single(endpoint.ChatRequests);
        Assert.Equal("Bearer sample-key", request.Authorization);
        Assert.Equal("sample-model", request.Body["model"]!.GetValue<string>());
        Assert.True(request.Body["stream"]!.GetValue<bool>());
        var messages = request.Body["messages"]!.AsArray();
        Assert.Equal("system", messages[0]!["role"]!.GetValue<string>());
        Assert.Equal("In one sentence: what is a talking avatar?", messages[^1]!["content"]!.GetValue<string>());
    }

    [Fact]
    public async Task The_sample_s_own_speech_to_text_client_turns_a_spoken_question_into_the_turn()
    {
        Assert.SkipUnless(EspeakTextToSpeechClient.IsAvailable, "espeak-ng is not installed (./build.sh test installs it).");
        await using var endpoint = await OpenAiCompatibleEndpoint.StartAsync(Ct);
        var wav = Path.Combine(Path.GetTempPath(), $"avatarkit-question-{Guid.NewGuid():N}.wav");
        await SpokenWav.WriteAsync(wav, "What is a talking avatar?", leadingSilence: TimeSpan.FromMilliseconds(300), trailingSilence: TimeSpan.FromSeconds(1), cancellationToken: Ct);
        try
        {
            var (exitCode, output) = await RunSampleAsync(endpoint, [wav]);

            Assert.True(exitCode == 0, output);
            Assert.Contains("you: What is a talking avatar?", output, StringComparison.Ordinal);
            Assert.Contains($"): {Answer}", output, StringComparison.Ordinal);
            var transcription = Assert.Single(endpoint.TranscriptionRequests);
            Assert.StartsWith("RIFF", Encoding.ASCII.GetString(transcription, 0, 4), StringComparison.Ordinal);
            Assert.True(transcription.Length > 16_000, $"only {transcription.Length} bytes of speech were sent");
        }
        finally
        {
            File.Delete(wav);
        }
    }

    private static async Task<(int ExitCode, string Output)> RunSampleAsync(OpenAiCompatibleEndpoint endpoint, string[] arguments)
    {
        var output = new StringBuilder();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(90));
        var result = await CliWrap.Cli.Wrap("dotnet")
            .WithArguments(["exec", SamplePath, .. arguments])
            .WithEnvironmentVariables(new Dictionary<string, string?>
            {
                ["OPENAI_BASE_URL"] = new Uri(endpoint.BaseUrl, "v1").ToString(),
                ["OPENAI_API_KEY"] = "sample-key",
                ["OPENAI_MODEL"] = "sample-model",
                ["OPENAI_STT_MODEL"] = "sample-whisper",
            })
            .WithStandardOutputPipe(PipeTarget.ToStringBuilder(output))
            .WithStandardErrorPipe(PipeTarget.ToStringBuilder(output))
            .WithValidation(CommandResultValidation.None)
            .ExecuteAsync(timeout.Token);
        return (result.ExitCode, output.ToString());
    }

    private static string SamplePath
    {
        get
        {
            var cli = CliProcess.CliPath;
            var configuration = typeof(CliProcess).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().First(a => a.Key == "CliConfiguration").Value!;
            var root = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(cli)!, "..", "..", "..", "..", ".."));
            var path = Path.Combine(root, "samples", "AvatarKit.CustomProviders", "bin", configuration, "net10.0", "AvatarKit.CustomProviders.dll");
            return File.Exists(path) ? path : throw new InvalidOperationException($"The sample was not built: {path}");
        }
    }

    /// <summary>
    /// The smallest OpenAI-compatible server the sample needs (test scaffolding, not an emulator):
    /// <c>POST /v1/chat/completions</c> streamed as SSE chunks ending in <c>[DONE]</c>, and
    /// <c>POST /v1/audio/transcriptions</c> (multipart) answering with the question's text.
    /// </summary>
    private sealed class OpenAiCompatibleEndpoint : IAsyncDisposable
    {
        private readonly WebApplication _app;

        private OpenAiCompatibleEndpoint(WebApplication app) => _app = app;

        public Uri BaseUrl { get; private set; } = null!;

        public ConcurrentQueue<(string? Authorization, JsonObject Body)> ChatRequests { get; } = new();

        public ConcurrentQueue<byte[]> TranscriptionRequests { get; } = new();

        public static async Task<OpenAiCompatibleEndpoint> StartAsync(CancellationToken cancellationToken)
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
            var app = builder.Build();
            var endpoint = new OpenAiCompatibleEndpoint(app);
            app.MapPost("/v1/chat/completions", endpoint.ChatAsync);
            app.MapPost("/v1/audio/transcriptions", endpoint.TranscribeAsync);
            await app.StartAsync(cancellationToken);
            endpoint.BaseUrl = new Uri(app.Urls.First() + "/");
            return endpoint;
        }

        public async ValueTask DisposeAsync()
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }

        private async Task ChatAsync(HttpContext context)
        {
            var body = (JsonObject)(await JsonNode.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted))!;
            ChatRequests.Enqueue((context.Request.Headers.Authorization.ToString(), body));
            context.Response.ContentType = "text/event-stream";
            foreach (var word in Answer.Split(' '))
            {
                var chunk = new JsonObject
                {
                    ["id"] = "chatcmpl-test",
                    ["object"] = "chat.completion.chunk",
                    ["choices"] = new JsonArray(new JsonObject { ["index"] = 0, ["delta"] = new JsonObject { ["content"] = word + " " } }),
                };
                await context.Response.WriteAsync($"data: {chunk.ToJsonString()}\n\n", context.RequestAborted);
                await context.Response.Body.FlushAsync(context.RequestAborted);
                await Task.Delay(10, context.RequestAborted);
            }

            await context.Response.WriteAsync("data: [DONE]\n\n", context.RequestAborted);
        }

        private async Task TranscribeAsync(HttpContext context)
        {
            var form = await context.Request.ReadFormAsync(context.RequestAborted);
            var file = form.Files["file"];
            if (file is null || form["model"] != "sample-whisper")
            {
                context.Response.StatusCode = 400;
                return;
            }

            using var audio = new MemoryStream();
            await file.CopyToAsync(audio, context.RequestAborted);
            TranscriptionRequests.Enqueue(audio.ToArray());
            await context.Response.WriteAsJsonAsync(new { text = "What is a talking avatar?" }, context.RequestAborted);
        }
    }
}
