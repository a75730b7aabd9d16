using System.Text.Json.Nodes;

namespace AvatarKit.Testing.Gemini;

/// <summary>What the Gemini emulator answers to one generate request.</summary>
public sealed record GeminiEmulatorAnswer
{
    private GeminiEmulatorAnswer()
    {
    }

    /// <summary>Gets the answer text, streamed in word chunks; null for a function call or a blocked prompt.</summary>
    public string? Text { get; private init; }

    /// <summary>Gets the function the model calls, when the answer is a function call.</summary>
    public string? FunctionName { get; private init; }

    /// <summary>Gets the function call's arguments (a JSON object).</summary>
    public JsonObject? FunctionArguments { get; private init; }

    /// <summary>Gets the function call's id; the real API often sends none.</summary>
    public string? FunctionCallId { get; private init; }

    /// <summary>Gets the reason the prompt is blocked (<c>SAFETY</c>…), answered with no candidates.</summary>
    public string? BlockReason { get; private init; }

    /// <summary>Gets or initializes a thought, sent as a <c>thought: true</c> part when the request asks for thoughts.</summary>
    public string? Thought { get; init; }

    /// <summary>Gets or initializes the finish reason of the last chunk; <c>STOP</c> by default.</summary>
    public string FinishReason { get; init; } = "STOP";

    /// <summary>
    /// Gets or initializes a task the emulator awaits after sending the first chunk of a stream, so a test
    /// can prove it received that chunk while the rest of the answer was still unsent.
    /// </summary>
    public Task? HoldAfterFirstChunk { get; init; }

    /// <summary>Creates a text answer.</summary>
    /// <param name="text">The answer.</param>
    /// <returns>The answer.</returns>
    public static GeminiEmulatorAnswer FromText(string text) => new() { Text = text ?? throw new ArgumentNullException(nameof(text)) };

    /// <summary>Creates a function-call answer.</summary>
    /// <param name="name">The declared function to call.</param>
    /// <param name="arguments">The arguments as a JSON object, e.g. <c>{"city":"Paris"}</c>.</param>
    /// <param name="id">The call id, or null as the Gemini API usually sends.</param>
    /// <returns>The answer.</returns>
    public static GeminiEmulatorAnswer FromFunctionCall(string name, string arguments = "{}", string? id = null) => new()
    {
        FunctionName = name ?? throw new ArgumentNullException(nameof(name)),
        FunctionArguments = JsonNode.Parse(arguments)?.AsObject() ?? [],
        FunctionCallId = id,
    };

    /// <summary>Creates the answer to a blocked prompt: HTTP 200, no candidates, <c>promptFeedback.blockReason</c>.</summary>
    /// <param name="blockReason">Google's block reason, e.g. <c>SAFETY</c>.</param>
    /// <returns>The answer.</returns>
    public static GeminiEmulatorAnswer Blocked(string blockReason = "SAFETY") => new() { BlockReason = blockReason };
}

/// <summary>The kinds of failure the Gemini emulator can inject.</summary>
public enum GeminiEmulatorFaultKind
{
    /// <summary>HTTP error with Google's envelope (429 carries <c>RetryInfo</c>).</summary>
    HttpError,

    /// <summary>Waits before the first byte of the answer.</summary>
    SlowFirstToken,

    /// <summary>Aborts the connection after some chunks (a TCP reset while streaming).</summary>
    CutMidAnswer,

    /// <summary>Sends half an event, then aborts the connection.</summary>
    CutMidEvent,

    /// <summary>Closes the stream cleanly after some chunks, without a finish reason.</summary>
    EndWithoutFinishReason,

    /// <summary>Sends an event whose data is not JSON.</summary>
    MalformedChunk,

    /// <summary>Sends an error envelope as an SSE event after some chunks, then closes.</summary>
    ErrorEvent,
}

/// <summary>A failure the Gemini emulator injects into the next generate request.</summary>
/// <param name="Kind">The kind of failure.</param>
/// <param name="StatusCode">The HTTP status (or the error event's code).</param>
/// <param name="Status">Google's status string.</param>
/// <param name="Message">Google's message.</param>
/// <param name="RetryDelay">The <c>RetryInfo.retryDelay</c> to send, if any.</param>
/// <param name="Delay">The delay of <see cref="GeminiEmulatorFaultKind.SlowFirstToken"/>.</param>
/// <param name="AfterChunks">How many chunks are sent before a stream fault.</param>
public sealed record GeminiEmulatorFault(
    GeminiEmulatorFaultKind Kind,
    int StatusCode = 0,
    string? Status = null,
    string? Message = null,
    TimeSpan? RetryDelay = null,
    TimeSpan Delay = default,
    int AfterChunks = 1)
{
    /// <summary>429 <c>RESOURCE_EXHAUSTED</c> with Google's QuotaFailure, Help and RetryInfo details.</summary>
    /// <param name="retryDelay">The delay the server asks for.</param>
    /// <returns>The fault.</returns>
    public static GeminiEmulatorFault RateLimited(TimeSpan retryDelay) => new(
        GeminiEmulatorFaultKind.HttpError,
        429,
        "RESOURCE_EXHAUSTED",
        $"You exceeded your current quota, please check your plan and billing details. Please retry in {retryDelay.TotalSeconds:0.#}s.",
        retryDelay);

    /// <summary>503 <c>UNAVAILABLE</c>, "The model is overloaded".</summary>
    /// <returns>The fault.</returns>
    public static GeminiEmulatorFault Unavailable() =>
        new(GeminiEmulatorFaultKind.HttpError, 503, "UNAVAILABLE", "The model is overloaded. Please try again later.");

    /// <summary>500 <c>INTERNAL</c>.</summary>
    /// <returns>The fault.</returns>
    public static GeminiEmulatorFault Internal() =>
        new(GeminiEmulatorFaultKind.HttpError, 500, "INTERNAL", "An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting");

    /// <summary>An arbitrary HTTP error with Google's envelope.</summary>
    /// <param name="code">The HTTP status.</param>
    /// <param name="status">Google's status string.</param>
    /// <param name="message">Google's message.</param>
    /// <returns>The fault.</returns>
    public static GeminiEmulatorFault Error(int code, string status, string message) => new(GeminiEmulatorFaultKind.HttpError, code, status, message);

    /// <summary>Waits before sending anything.</summary>
    /// <param name="delay">The extra time to first token.</param>
    /// <returns>The fault.</returns>
    public static GeminiEmulatorFault SlowFirstToken(TimeSpan delay) => new(GeminiEmulatorFaultKind.SlowFirstToken, Delay: delay);

    /// <summary>Resets the connection after <paramref name="afterChunks"/> complete chunks.</summary>
    /// <param name="afterChunks">Chunks sent first.</param>
    /// <returns>The fault.</returns>
    public static GeminiEmulatorFault CutMidAnswer(int afterChunks = 1) => new(GeminiEmulatorFaultKind.CutMidAnswer, AfterChunks: afterChunks);

    /// <summary>Sends <paramref name="afterChunks"/> chunks and half of the next event, then resets the connection.</summary>
    /// <param name="afterChunks">Chunks sent first.</param>
    /// <returns>The fault.</returns>
    public static GeminiEmulatorFault CutMidEvent(int afterChunks = 1) => new(GeminiEmulatorFaultKind.CutMidEvent, AfterChunks: afterChunks);

    /// <summary>Closes the stream cleanly after <paramref name="afterChunks"/> chunks, with no finish reason.</summary>
    /// <param name="afterChunks">Chunks sent first.</param>
    /// <returns>The fault.</returns>
    public static GeminiEmulatorFault EndWithoutFinishReason(int afterChunks = 1) => new(GeminiEmulatorFaultKind.EndWithoutFinishReason, AfterChunks: afterChunks);

    /// <summary>Sends an event whose data is not valid JSON after <paramref name="afterChunks"/> chunks.</summary>
    /// <param name="afterChunks">Chunks sent first.</param>
    /// <returns>The fault.</returns>
    public static GeminiEmulatorFault MalformedChunk(int afterChunks = 1) => new(GeminiEmulatorFaultKind.MalformedChunk, AfterChunks: afterChunks);

    /// <summary>Sends <c>data: {"error":{"code":503,...}}</c> after <paramref name="afterChunks"/> chunks, then closes.</summary>
    /// <param name="afterChunks">Chunks sent first.</param>
    /// <returns>The fault.</returns>
    public static GeminiEmulatorFault ErrorEvent(int afterChunks = 1) =>
        new(GeminiEmulatorFaultKind.ErrorEvent, 503, "UNAVAILABLE", "The model is overloaded. Please try again later.", AfterChunks: afterChunks);
}

/// <summary>A request the Gemini emulator received.</summary>
/// <param name="Method">The HTTP method.</param>
/// <param name="Path">The path, e.g. <c>/v1beta/models/gemini-2.5-flash:streamGenerateContent</c>.</param>
/// <param name="Query">The query string, including <c>?</c>, or empty.</param>
/// <param name="Body">The body as text (empty for GET).</param>
/// <param name="Headers">The request headers (the API key header is recorded as <c>***</c>).</param>
/// <param name="ReceivedAt">When the request arrived.</param>
public sealed record GeminiEmulatorRequest(
    string Method,
    string Path,
    string Query,
    string Body,
    IReadOnlyDictionary<string, string> Headers,
    DateTimeOffset ReceivedAt)
{
    /// <summary>Gets the body parsed as JSON, or null when it is not JSON.</summary>
    public JsonObject? Json { get; init; }

    /// <summary>Gets the method after the last <c>:</c> of the path (<c>generateContent</c>…), or null.</summary>
    public string? Operation { get; init; }

    /// <summary>Gets the model id from the path, or null.</summary>
    public string? Model { get; init; }

    /// <summary>Gets the text of the last user turn, or null when it has none.</summary>
    public string? LastUserText
    {
        get
        {
            var last = Json?["contents"]?.AsArray().LastOrDefault(c => c?["role"]?.GetValue<string>() is null or "user");
            var texts = last?["parts"]?.AsArray().Select(p => p?["text"]?.GetValue<string>()).Where(t => t is not null).ToList();
            return texts is { Count: > 0 } ? string.Concat(texts) : null;
        }
    }

    /// <summary>Gets the <c>functionResponse</c> parts of the last turn (empty when it has none).</summary>
    public IReadOnlyList<JsonObject> LastFunctionResponses =>
        Json?["contents"]?.AsArray().LastOrDefault()?["parts"]?.AsArray()
            .Select(p => p?["functionResponse"] as JsonObject).OfType<JsonObject>().ToList() ?? [];

    /// <summary>Gets the names of the functions the request declares.</summary>
    public IReadOnlyList<string> DeclaredFunctions =>
        Json?["tools"]?.AsArray().SelectMany(t => t?["functionDeclarations"]?.AsArray() ?? [])
            .Select(d => d?["name"]?.GetValue<string>()).OfType<string>().ToList() ?? [];
}
