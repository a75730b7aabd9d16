// Plugs a custom IChatClient (any OpenAI-compatible endpoint) and a custom ISpeechToTextClient into
// the AvatarKit pipeline, without changing AvatarKit. The avatar is the offline sandbox avatar.
//
//   OPENAI_BASE_URL=http://localhost:11434/v1 OPENAI_MODEL=llama3.2 \
//     dotnet run --project samples/AvatarKit.CustomProviders -- [question.wav]
//
// With a WAV file, the question is spoken (transcribed by OPENAI_BASE_URL's /audio/transcriptions,
// model OPENAI_STT_MODEL); without one, a typed question is sent. Any local OpenAI-compatible server
// works (Ollama, vLLM, LM Studio, llama.cpp's server); no AvatarKit key is needed, the avatar is the
// sandbox's. Exit code 0 when the avatar spoke the whole answer, 1 otherwise, 2 for missing settings.
using AvatarKit;
using AvatarKit.Samples;
using AvatarKit.Speech.Capture;
using AvatarKit.Testing.LiveAvatar;
using AvatarKit.Testing.Sandbox;
using Microsoft.Extensions.DependencyInjection;

if (Environment.GetEnvironmentVariable("OPENAI_BASE_URL") is not { Length: > 0 } baseUrlText)
{
    Console.Error.WriteLine("Set OPENAI_BASE_URL (e.g. http://localhost:11434/v1 for Ollama) and optionally OPENAI_API_KEY, OPENAI_MODEL.");
    return 2;
}

var baseUrl = new Uri(baseUrlText.TrimEnd('/') + "/");
var apiKey = Environment.GetEnvironmentVariable("OPENAI_API_KEY");
using var http = new HttpClient();
var chat = new OpenAiCompatibleChatClient(http, baseUrl, Environment.GetEnvironmentVariable("OPENAI_MODEL") ?? "gpt-4o-mini", apiKey);
var speechToText = new SegmentingSpeechToTextClient(
    new OpenAiCompatibleTranscriptionClient(http, baseUrl, Environment.GetEnvironmentVariable("OPENAI_STT_MODEL") ?? "whisper-1", apiKey));

// The sandbox avatar (LiveAvatar emulator) through the regular HeyGen provider.
await using var sandbox = await AvatarKitSandbox.StartAsync(new SandboxOptions { Deepgram = false, Gemini = false });
var services = new ServiceCollection();
services.AddSingleton(sandbox.Rooms.Connector);
services.AddAvatarKit().AddLiveAvatar(o =>
{
    o.BaseUrl = sandbox.Endpoints["liveavatar"].BaseUrl;
    o.ApiKey = sandbox.Endpoints["liveavatar"].ApiKey;
    o.AvatarId = LiveAvatarEmulatorOptions.PublicAvatarId;
});
await using var provider = services.BuildServiceProvider();

var builder = AvatarPipeline.CreateBuilder()
    .UseChatClient(chat)
    .UseAvatar(provider.GetRequiredService<IAvatarService>())
    .Configure(o => o.SystemPrompt = "Answer in two short sentences.");
if (args.Length > 0)
{
    builder.UseSpeechToText(speechToText, StreamAudioInput.FromWavFile(args[0]));
}

await using var pipeline = builder.Build();
var heard = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
var answered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
var printing = Task.Run(async () =>
{
    await foreach (var e in pipeline.ReadEventsAsync())
    {
        if (e is UserTurnEvent)
        {
            heard.TrySetResult();
        }
        else if (e is TurnCompletedEvent)
        {
            answered.TrySetResult();
        }

        var line = e switch
        {
            UserTurnEvent u => $"you: {u.Text}",
            AnswerSentenceEvent s => $"avatar: {s.Sentence}",
            ConversationErrorEvent error => $"error in {error.Stage}: {error.Message}",
            TurnCompletedEvent t => $"avatar said ({t.Result.Outcome}, first speech after {t.Result.Metrics.ToFirstSpeech?.TotalMilliseconds:0} ms): {t.Result.SpokenText}",
            _ => null,
        };
        if (line is not null)
        {
            Console.WriteLine(line);
        }
    }
});

await pipeline.StartAsync();
if (args.Length == 0)
{
    await pipeline.SendTextAsync("In one sentence: what is a talking avatar?");
}
else
{
    // Until the spoken question is answered; or the file ended and nothing was heard.
    while (!answered.Task.IsCompleted && (pipeline.IsVoiceInputActive || heard.Task.IsCompleted))
    {
        await Task.WhenAny(answered.Task, Task.Delay(200));
    }
}

await pipeline.StopAsync();
await printing;

// Scripts (and the sample's own test) can trust the exit code: 0 only when the avatar spoke a full answer.
return pipeline.LastTurn is { Outcome: TurnOutcome.Completed, SpokenText.Length: > 0 } ? 0 : 1;
