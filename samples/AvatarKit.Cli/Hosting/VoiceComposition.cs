using AvatarKit.Speech.Capture;
using AvatarKit.Speech.Deepgram;
using AvatarKit.Testing.Sandbox;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AvatarKit.Cli.Hosting;

/// <summary>Voice input: an audio source (a WAV file, or the microphone) and Deepgram speech-to-text (or its emulator in the sandbox).</summary>
internal static class VoiceComposition
{
    public static void Add(AvatarKitBuilder kit, HostRequest request, string? deepgramKey, AvatarKitSandbox? sandbox, List<ProviderChoice> providers)
    {
        if (!request.Voice)
        {
            return;
        }

        var options = new DeepgramOptions();
        if (deepgramKey is null)
        {
            var endpoint = sandbox!.Endpoints["deepgram"];
            options.BaseUrl = endpoint.BaseUrl;
            options.ApiKey = endpoint.ApiKey;
            providers.Add(new ProviderChoice("speech-to-text", "Deepgram emulator (set DEEPGRAM_API_KEY for Deepgram)", true));
        }
        else
        {
            options.ApiKey = deepgramKey;
            options.BaseUrl = CliEnvironment.GetUrl("DEEPGRAM_BASE_URL") ?? options.BaseUrl;
            providers.Add(new ProviderChoice("speech-to-text", "Deepgram", false));
        }

        kit.Services.AddSingleton<ISpeechToTextClient>(services => new DeepgramSpeechToTextClient(options, httpClient: null, services.GetService<ILogger<DeepgramSpeechToTextClient>>()));
        if (request.AudioFile is { } file)
        {
            if (!File.Exists(file))
            {
                throw new CliException($"The audio file '{file}' does not exist.", ExitCodes.Usage);
            }

            kit.Services.AddSingleton<IAudioInput>(StreamAudioInput.FromWavFile(file, realTime: true));
            providers.Add(new ProviderChoice("audio input", $"{Path.GetFileName(file)}, played in real time", false));
        }
        else
        {
            try
            {
                var microphone = Microphone.Create(CliEnvironment.Get("AVATARKIT_MICROPHONE"));
                kit.Services.AddSingleton(microphone);
                providers.Add(new ProviderChoice("audio input", $"microphone ({microphone.Name})", false));
            }
            catch (AudioInputException ex)
            {
                // Text chat still works; say why voice does not.
                providers.Add(new ProviderChoice("audio input", $"none: {ex.Message}", false));
            }
        }
    }
}
