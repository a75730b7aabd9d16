using AvatarKit.Testing;
using Microsoft.Extensions.Logging;

namespace AvatarKit.LiveKit.Tests;

/// <summary>
/// Every class of this project that uses LiveKit's native library: one collection run on its own, as
/// <see cref="AvatarKit.LiveKit.Native.FfiHandle.LiveCount"/> counts the handles of the whole process.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class LiveKitTestGroup : ICollectionFixture<LiveKitServerFixture>
{
    public const string Name = "livekit";
}

/// <summary>One fake LiveKit server for the collection, and an avatar (<c>heygen</c>) publishing known media in <see cref="AvatarRoom"/>.</summary>
public sealed class LiveKitServerFixture : IAsyncLifetime
{
    public const string AvatarRoom = "avatar-room";
    public const string AvatarIdentity = "heygen";

    private FakeLiveKitServer? _server;
    private EmulatedLiveKitParticipant? _avatar;

    public ILoggerFactory LoggerFactory { get; } = Microsoft.Extensions.Logging.LoggerFactory.Create(b => b
        .AddFilter("AvatarKit.LiveKit.Native", LogLevel.Warning)
        .AddFilter(level => level >= (Environment.GetEnvironmentVariable("AVATARKIT_TEST_LOG") == "1" ? LogLevel.Debug : LogLevel.Warning))
        .AddSimpleConsole(o => o.SingleLine = true));

    public FakeLiveKitServer Server => _server ?? throw new InvalidOperationException("The fake server did not start.");

    public EmulatedLiveKitParticipant Avatar => _avatar ?? throw new InvalidOperationException("The avatar did not join.");

    public LiveKitRoomConnector Connector { get; private set; } = null!;

    /// <summary>Skips only when Node.js/npm are truly absent, so the build could not fetch the native library.</summary>
    public static void RequireNativeLibrary() => Assert.SkipWhen(
        FakeLiveKitServer.UnavailableReason is not null && !LiveKitRoomConnector.CheckNativeLibrary().IsAvailable,
        $"LiveKit's native library was not fetched by the build: {FakeLiveKitServer.UnavailableReason}");

    /// <summary>A hang guard, generous for two test runs sharing two cores; tests end as soon as their condition holds.</summary>
    public static CancellationToken HangGuard(int seconds = 60) =>
        CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken, new CancellationTokenSource(TimeSpan.FromSeconds(seconds)).Token).Token;

    public static void RequireServer() => Assert.SkipWhen(FakeLiveKitServer.UnavailableReason is not null, FakeLiveKitServer.UnavailableReason ?? string.Empty);

    public async ValueTask InitializeAsync()
    {
        if (FakeLiveKitServer.UnavailableReason is not null)
        {
            return;
        }

        _server = await FakeLiveKitServer.StartAsync(LoggerFactory);
        Connector = new LiveKitRoomConnector(loggerFactory: LoggerFactory);
        _avatar = await EmulatedLiveKitParticipant.JoinAsync(Connector, _server.CreateGrant(AvatarRoom, AvatarIdentity));
    }

    public async ValueTask DisposeAsync()
    {
        if (_avatar is not null)
        {
            await _avatar.DisposeAsync();
        }

        if (_server is not null)
        {
            await _server.DisposeAsync();
        }

        LoggerFactory.Dispose();
    }

    /// <summary>
    /// Waits until the avatar's room sees no other participant. Until then it may hold handles of
    /// tracks an earlier test published (it subscribes to everything), and drop them at any moment
    /// when the server reports that test's participants gone. Once alone, the avatar's native handles
    /// stay as they are while no one publishes: a test can compare the process-wide handle count.
    /// </summary>
    public static async Task WaitUntilNativeHandlesAreStableAsync(LiveKitServerFixture? fixture, CancellationToken cancellationToken)
    {
        if (fixture?._avatar is not { } avatar)
        {
            return; // no server, no avatar: nothing else in this collection holds handles between tests
        }

        while (avatar.Room.RemoteParticipants.Count > 0)
        {
            await Task.Delay(20, cancellationToken);
        }
    }

    /// <summary>Joins the avatar's room as <paramref name="identity"/>.</summary>
    public async Task<LiveKitRoom> JoinAvatarRoomAsync(string identity, CancellationToken cancellationToken)
    {
        var grant = Server.CreateGrant(AvatarRoom, identity);
        return (LiveKitRoom)await Connector.ConnectAsync(grant.Url, grant.Token, cancellationToken);
    }
}
