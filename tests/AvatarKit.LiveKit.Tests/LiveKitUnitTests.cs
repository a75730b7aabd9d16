using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using AvatarKit.LiveKit.Native;
using LiveKit.Proto;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace AvatarKit.LiveKit.Tests;

/// <summary>The package's own logic, and the native library on its own (no server).</summary>
[Collection(LiveKitTestGroup.Name)]
public sealed class LiveKitUnitTests(LiveKitServerFixture fixture)
{
    [Fact]
    public void The_native_library_fetched_by_the_build_loads_on_this_machine()
    {
        LiveKitServerFixture.RequireNativeLibrary();
        var status = LiveKitRoomConnector.CheckNativeLibrary();

        Assert.True(status.IsAvailable, status.Error);
        Assert.Null(status.Error);
        Assert.Equal(LiveKitNativeLibrary.RuntimeIdentifier, status.RuntimeIdentifier);
        Assert.True(File.Exists(Path.Combine(AppContext.BaseDirectory, "runtimes", status.RuntimeIdentifier, "native", LiveKitNativeLibrary.FileName)));
    }

    [Fact]
    public async Task A_request_returns_an_owned_handle_that_is_dropped_exactly_once()
    {
        LiveKitServerFixture.RequireNativeLibrary();
        await LiveKitServerFixture.WaitUntilNativeHandlesAreStableAsync(fixture, TestContext.Current.CancellationToken);
        var before = FfiHandle.LiveCount;
        var response = FfiClient.Instance.Request(new FfiRequest
        {
            NewAudioSource = new NewAudioSourceRequest
            {
                Type = AudioSourceType.AudioSourceNative,
                Options = new AudioSourceOptions(),
                SampleRate = 48_000,
                NumChannels = 1,
            },
        });
        var handle = FfiHandle.Own(response.NewAudioSource.Source.Handle);
        Assert.NotEqual(0UL, handle.Id);
        Assert.Equal(before + 1, FfiHandle.LiveCount);

        handle.Dispose();
        handle.Dispose();

        Assert.Equal(before, FfiHandle.LiveCount);
        Assert.True(handle.IsClosed);
    }

    [Fact]
    public void A_request_the_native_side_rejects_throws_a_LiveKitException()
    {
        LiveKitServerFixture.RequireNativeLibrary();
        var error = Assert.Throws<LiveKitException>(() => FfiClient.Instance.Request(new FfiRequest
        {
            CreateAudioTrack = new CreateAudioTrackRequest { Name = "orphan", SourceHandle = 987_654_321 },
        }));

        Assert.Contains("CreateAudioTrack", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Owned_handles_nested_in_an_unused_event_are_all_found_and_dropped()
    {
        await LiveKitServerFixture.WaitUntilNativeHandlesAreStableAsync(fixture, TestContext.Current.CancellationToken);
        var before = FfiHandle.LiveCount;
        var ffiEvent = new FfiEvent
        {
            Connect = new ConnectCallback
            {
                AsyncId = 1,
                Result = new ConnectCallback.Types.Result
                {
                    Room = new OwnedRoom { Handle = new FfiOwnedHandle { Id = 900_001 }, Info = new RoomInfo() },
                    LocalParticipant = new OwnedParticipant { Handle = new FfiOwnedHandle { Id = 900_002 }, Info = new ParticipantInfo() },
                    Participants =
                    {
                        new ConnectCallback.Types.ParticipantWithTracks
                        {
                            Participant = new OwnedParticipant { Handle = new FfiOwnedHandle { Id = 900_003 }, Info = new ParticipantInfo() },
                            Publications = { new OwnedTrackPublication { Handle = new FfiOwnedHandle { Id = 900_004 }, Info = new TrackPublicationInfo() } },
                        },
                    },
                },
            },
        };
        var dropped = new List<ulong>();

        FfiClient.VisitOwnedHandles(ffiEvent, handle => dropped.Add(handle.Id));

        Assert.Equal([900_001UL, 900_002UL, 900_003UL, 900_004UL], dropped.Order());
        Assert.Equal(before, FfiHandle.LiveCount);
    }

    [Fact]
    public void Access_tokens_are_HS256_JWTs_with_the_video_grant()
    {
        var token = LiveKitAccessToken.Create("APIkey", "s3cret", "room-1", "alice", TimeSpan.FromMinutes(5), canPublish: false);

        var parts = token.Split('.');
        Assert.Equal(3, parts.Length);
        var signature = HMACSHA256.HashData("s3cret"u8.ToArray(), Encoding.ASCII.GetBytes($"{parts[0]}.{parts[1]}"));
        Assert.Equal(Base64UrlDecode(parts[2]), signature);
        using var header = JsonDocument.Parse(Base64UrlDecode(parts[0]));
        Assert.Equal("HS256", header.RootElement.GetProperty("alg").GetString());
        using var claims = JsonDocument.Parse(Base64UrlDecode(parts[1]));
        var root = claims.RootElement;
        Assert.Equal("APIkey", root.GetProperty("iss").GetString());
        Assert.Equal("alice", root.GetProperty("sub").GetString());
        Assert.InRange(root.GetProperty("exp").GetInt64() - DateTimeOffset.UtcNow.ToUnixTimeSeconds(), 290, 301);
        var video = root.GetProperty("video");
        Assert.Equal("room-1", video.GetProperty("room").GetString());
        Assert.True(video.GetProperty("roomJoin").GetBoolean());
        Assert.False(video.GetProperty("canPublish").GetBoolean());
        Assert.True(video.GetProperty("canSubscribe").GetBoolean());
    }

    [Fact]
    public async Task Connecting_to_a_URL_that_is_not_a_LiveKit_scheme_is_refused_before_any_network_use()
    {
        var connector = new LiveKitRoomConnector();

        var error = await Assert.ThrowsAsync<ArgumentException>(() => connector.ConnectAsync(new Uri("inproc://room"), "token", TestContext.Current.CancellationToken));

        Assert.Contains("ws://", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AddLiveKit_registers_the_connector_with_options_from_the_environment()
    {
        var services = new ServiceCollection();
        services.AddAvatarKit().AddLiveKit(o => o.ApiKey = "from-code");
        using var provider = services.BuildServiceProvider();

        Assert.IsType<LiveKitRoomConnector>(provider.GetRequiredService<IRealtimeRoomConnector>());
        Assert.Equal("from-code", provider.GetRequiredService<IOptions<LiveKitOptions>>().Value.ApiKey);
    }

    [Fact]
    public void Invalid_options_are_reported_with_the_setting_to_fix()
    {
        var services = new ServiceCollection();
        services.AddAvatarKit().AddLiveKit(o => o.VideoQueueFrames = 0);
        using var provider = services.BuildServiceProvider();

        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<LiveKitOptions>>().Value);

        Assert.Contains("VideoQueueFrames", error.Message, StringComparison.Ordinal);
    }

    private static byte[] Base64UrlDecode(string value) =>
        Convert.FromBase64String(value.Replace('-', '+').Replace('_', '/') + new string('=', (4 - value.Length % 4) % 4));
}
