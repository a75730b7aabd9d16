using System.Collections.Concurrent;
using System.Globalization;
using Microsoft.AspNetCore.Http;

namespace AvatarKit.Testing;

/// <summary>
/// Latency and failures an emulator injects per endpoint path: a delay before handling, or a
/// number of canned error responses (e.g. 429 with <c>Retry-After</c>, 503) before the real handler runs.
/// Thread-safe; rules can change while the emulator serves requests.
/// </summary>
public sealed class FaultInjector
{
    private readonly ConcurrentDictionary<string, TimeSpan> _delays = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<string, ConcurrentQueue<InjectedFailure>> _failures = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Delays every request to <paramref name="path"/>; <see cref="TimeSpan.Zero"/> removes the delay.</summary>
    /// <param name="path">The request path, e.g. <c>/v1/sessions/start</c>.</param>
    /// <param name="delay">How long to wait before handling.</param>
    public void Delay(string path, TimeSpan delay)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (delay <= TimeSpan.Zero)
        {
            _delays.TryRemove(path, out _);
        }
        else
        {
            _delays[path] = delay;
        }
    }

    /// <summary>Answers the next <paramref name="times"/> requests to <paramref name="path"/> with an error instead of handling them.</summary>
    /// <param name="path">The request path.</param>
    /// <param name="statusCode">The HTTP status to return (e.g. 429, 500, 503).</param>
    /// <param name="times">How many requests fail.</param>
    /// <param name="retryAfter">A <c>Retry-After</c> header to send, in whole seconds.</param>
    /// <param name="body">The JSON body; a provider-shaped envelope when null.</param>
    public void Fail(string path, int statusCode, int times = 1, TimeSpan? retryAfter = null, string? body = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        var queue = _failures.GetOrAdd(path, _ => new ConcurrentQueue<InjectedFailure>());
        for (var i = 0; i < times; i++)
        {
            queue.Enqueue(new InjectedFailure(statusCode, retryAfter, body));
        }
    }

    /// <summary>Removes every rule.</summary>
    public void Clear()
    {
        _delays.Clear();
        _failures.Clear();
    }

    /// <summary>Applies the rules for a request; returns <see langword="true"/> when it answered the request itself.</summary>
    /// <param name="context">The request.</param>
    /// <param name="defaultBody">Builds the provider-shaped error body for a status.</param>
    /// <returns>Whether the request was answered.</returns>
    internal async Task<bool> ApplyAsync(HttpContext context, Func<int, string> defaultBody)
    {
        var path = context.Request.Path.Value ?? string.Empty;
        if (_delays.TryGetValue(path, out var delay))
        {
            await Task.Delay(delay, context.RequestAborted).ConfigureAwait(false);
        }

        if (_failures.TryGetValue(path, out var queue) && queue.TryDequeue(out var failure))
        {
            context.Response.StatusCode = failure.StatusCode;
            if (failure.RetryAfter is { } retryAfter)
            {
                context.Response.Headers.RetryAfter = ((int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
            }

            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(failure.Body ?? defaultBody(failure.StatusCode), context.RequestAborted).ConfigureAwait(false);
            return true;
        }

        return false;
    }

    private sealed record InjectedFailure(int StatusCode, TimeSpan? RetryAfter, string? Body);
}
