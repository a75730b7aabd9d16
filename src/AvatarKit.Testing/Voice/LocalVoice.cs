using System.Runtime.CompilerServices;
using Microsoft.Extensions.AI;

namespace AvatarKit.Testing.Voice;

/// <summary>What the local voices (espeak-ng and the synthetic tone) share: they synthesize a whole utterance, then stream it.</summary>
internal static class LocalVoice
{
    public static async IAsyncEnumerable<TextToSpeechResponseUpdate> StreamAsync(
        Func<CancellationToken, Task<TextToSpeechResponse>> synthesize, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var response = await synthesize(cancellationToken).ConfigureAwait(false);
        foreach (var update in response.ToTextToSpeechResponseUpdates())
        {
            yield return update;
        }
    }

    public static object? GetService(ITextToSpeechClient client, TextToSpeechClientMetadata metadata, Type serviceType, object? serviceKey)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        return serviceKey is not null ? null
            : serviceType == typeof(TextToSpeechClientMetadata) ? metadata
            : serviceType.IsInstanceOfType(client) ? client
            : null;
    }
}
