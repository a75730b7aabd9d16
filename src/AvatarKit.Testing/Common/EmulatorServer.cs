using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AvatarKit.Testing;

/// <summary>
/// The Kestrel host every HTTP emulator runs in: <c>127.0.0.1</c> on a chosen port (or one the OS
/// picks), WebSockets, no framework logging, and optionally a log of the requests received and fault
/// injection before each endpoint.
/// </summary>
internal sealed class EmulatorServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private EmulatorServer(WebApplication app, Uri baseUrl)
    {
        _app = app;
        BaseUrl = baseUrl;
    }

    public Uri BaseUrl { get; }

    /// <summary>Starts a server.</summary>
    /// <param name="port">The loopback port; 0 lets the OS choose a free one.</param>
    /// <param name="hooks">Request recording and fault injection; none when null.</param>
    /// <param name="map">Maps the emulator's endpoints.</param>
    /// <param name="cancellationToken">Cancels the start.</param>
    /// <returns>The running server.</returns>
    public static async Task<EmulatorServer> StartAsync(int port, EmulatorRequestHooks? hooks, Action<WebApplication> map, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(port);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(port, IPEndPoint.MaxPort);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, port));
        builder.Services.AddRouting();
        var app = builder.Build();
        app.UseWebSockets();
        if (hooks is not null)
        {
            app.Use((context, next) => hooks.ApplyAsync(context, next));
        }

        map(app);
        try
        {
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await app.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new EmulatorServer(app, new Uri(address + "/"));
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
    }
}

/// <summary>What an <see cref="EmulatorServer"/> does before each endpoint: tag the response, record the request, apply injected faults.</summary>
/// <param name="Faults">The fault rules.</param>
/// <param name="Log">Where received requests are recorded.</param>
/// <param name="ErrorBody">Builds the provider-shaped error body of an injected failure.</param>
/// <param name="AuthScheme">Names how a request authenticated (never the secret).</param>
internal sealed record EmulatorRequestHooks(
    FaultInjector Faults,
    ConcurrentQueue<RecordedRequest> Log,
    Func<int, string> ErrorBody,
    Func<HttpRequest, string?> AuthScheme)
{
    public async Task ApplyAsync(HttpContext context, RequestDelegate next)
    {
        context.Response.Headers["x-request-id"] = Guid.NewGuid().ToString("N");
        context.Request.EnableBuffering();
        using var reader = new StreamReader(context.Request.Body, leaveOpen: true);
        var body = await reader.ReadToEndAsync(context.RequestAborted).ConfigureAwait(false);
        context.Request.Body.Position = 0;
        Log.Enqueue(new RecordedRequest(context.Request.Method, context.Request.Path.Value ?? string.Empty, context.Request.QueryString.Value ?? string.Empty, body, AuthScheme(context.Request)));
        if (!await Faults.ApplyAsync(context, ErrorBody).ConfigureAwait(false))
        {
            await next(context).ConfigureAwait(false);
        }
    }
}
