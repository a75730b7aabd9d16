using System.Globalization;
using Microsoft.AspNetCore.Http;

namespace AvatarKit.Testing.Deepgram;

/// <summary>The query of a <c>/v1/listen</c> request, validated as Deepgram does (unknown parameters are tolerated).</summary>
internal sealed record ListenParameters(
    string Model,
    string? Encoding,
    int SampleRate,
    int Channels,
    bool Punctuate,
    bool InterimResults,
    int? EndpointingMs,
    int? UtteranceEndMs,
    bool VadEvents)
{
    private static readonly string[] Encodings = ["linear16", "linear32", "flac", "alaw", "mulaw", "amr-nb", "amr-wb", "opus", "ogg-opus", "speex", "g729"];
    private static readonly string[] RawEncodings = ["linear16", "linear32", "alaw", "mulaw", "amr-nb", "amr-wb", "speex", "g729"];
    private static readonly string[] ModelPrefixes = ["nova-3", "nova-2", "nova", "enhanced", "base", "whisper"];

    /// <summary>Parses and validates the query; returns an error message for a 400 when invalid.</summary>
    /// <remarks>
    /// With <paramref name="requireRawFormat"/> (live streams) the emulator must decode the audio as it
    /// comes: linear16, or a WAV container when no encoding is given (as Deepgram detects containers).
    /// </remarks>
    public static ListenParameters? Parse(IQueryCollection query, bool requireRawFormat, out string? error)
    {
        error = null;
        var model = query["model"].FirstOrDefault() ?? "base";
        if (!ModelPrefixes.Any(p => model.StartsWith(p, StringComparison.Ordinal)))
        {
            error = $"No such model/language/tier combination found: model '{model}'.";
            return null;
        }

        if (model.StartsWith("nova-3", StringComparison.Ordinal) && query.ContainsKey("keywords"))
        {
            error = "Keywords are not supported for nova-3; use keyterm instead.";
            return null;
        }

        var encoding = query["encoding"].FirstOrDefault();
        if (encoding is not null && !Encodings.Contains(encoding))
        {
            error = $"Invalid query string. Unknown encoding '{encoding}'.";
            return null;
        }

        var sampleRate = 0;
        if (query["sample_rate"].FirstOrDefault() is { } rateText
            && (!int.TryParse(rateText, NumberStyles.None, CultureInfo.InvariantCulture, out sampleRate) || sampleRate is < 8_000 or > 192_000))
        {
            error = $"Invalid query string. Invalid sample_rate '{rateText}'.";
            return null;
        }

        if (encoding is not null && RawEncodings.Contains(encoding) && sampleRate == 0)
        {
            error = $"Invalid query string. sample_rate is required for encoding '{encoding}'.";
            return null;
        }

        if (requireRawFormat && encoding is not (null or "linear16"))
        {
            // Deepgram would decode these; the emulator says clearly that it cannot, instead of hearing silence.
            error = $"The Deepgram emulator decodes live audio as linear16, or as WAV when no encoding is given; not '{encoding}'.";
            return null;
        }

        var channels = 1;
        if (query["channels"].FirstOrDefault() is { } channelsText
            && (!int.TryParse(channelsText, NumberStyles.None, CultureInfo.InvariantCulture, out channels) || channels is < 1 or > 8))
        {
            error = $"Invalid query string. Invalid channels '{channelsText}'.";
            return null;
        }

        if (!TryBool(query, "punctuate", out var punctuate, ref error)
            || !TryBool(query, "smart_format", out var smartFormat, ref error)
            || !TryBool(query, "interim_results", out var interim, ref error)
            || !TryBool(query, "vad_events", out var vadEvents, ref error))
        {
            return null;
        }

        int? endpointing = 10;
        if (query["endpointing"].FirstOrDefault() is { } endpointingText)
        {
            if (endpointingText == "false")
            {
                endpointing = null;
            }
            else if (int.TryParse(endpointingText, NumberStyles.None, CultureInfo.InvariantCulture, out var ms))
            {
                endpointing = ms;
            }
            else
            {
                error = $"Invalid query string. Invalid endpointing '{endpointingText}'.";
                return null;
            }
        }

        int? utteranceEnd = null;
        if (query["utterance_end_ms"].FirstOrDefault() is { } utteranceText)
        {
            if (!int.TryParse(utteranceText, NumberStyles.None, CultureInfo.InvariantCulture, out var ms))
            {
                error = $"Invalid query string. Invalid utterance_end_ms '{utteranceText}'.";
                return null;
            }

            if (!interim)
            {
                error = "utterance_end_ms requires interim_results=true.";
                return null;
            }

            utteranceEnd = ms;
        }

        return new ListenParameters(model, encoding, sampleRate, channels, punctuate || smartFormat, interim, endpointing, utteranceEnd, vadEvents);
    }

    private static bool TryBool(IQueryCollection query, string name, out bool value, ref string? error)
    {
        value = false;
        var text = query[name].FirstOrDefault();
        if (text is null || bool.TryParse(text, out value))
        {
            return true;
        }

        error = $"Invalid query string. {name} must be true or false, not '{text}'.";
        return false;
    }
}
