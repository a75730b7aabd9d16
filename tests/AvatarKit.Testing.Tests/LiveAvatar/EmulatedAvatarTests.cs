using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using AvatarKit.Testing.LiveAvatar;

namespace AvatarKit.Testing.Tests;

/// <summary>The emulator on its own: the avatar's media and the raw protocol, with a plain HttpClient (no AvatarKit.HeyGen).</summary>
public sealed class EmulatedAvatarTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task The_avatar_publishes_video_whose_mouth_moves_with_the_speech_and_a_caption()
    {
        var rooms = new InProcessRoomServer();
        await using var avatar = await EmulatedAvatar.JoinAsync(new InProcessRoomHost(rooms), "room", new EmulatedAvatarOptions { FramesPerSecond = 20 }, cancellationToken: Ct);
        await using var viewer = await rooms.JoinAsync("room", "viewer", Ct);
        var video = await viewer.WaitForTrackAsync("heygen", RoomTrackKind.Video, Ct);
        var audio = await viewer.WaitForTrackAsync("heygen", RoomTrackKind.Audio, Ct);
        var started = new TaskCompletionSource<EmulatedSpeechEventArgs>(TaskCreationOptions.RunContinuationsAsynchronously);
        var ended = new TaskCompletionSource<EmulatedSpeechEventArgs>(TaskCreationOptions.RunContinuationsAsynchronously);
        avatar.SpeakingStarted += (_, e) => started.TrySetResult(e);
        avatar.SpeakingEnded += (_, e) => ended.TrySetResult(e);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var mouths = new List<double>();
        var captionPixels = 0;
        var loudest = double.NegativeInfinity;

        // Subscribed here, before the avatar speaks; only the reading runs on other tasks (one that started late
        // would miss the speech it is meant to see).
        var videoFrames = viewer.ReadVideoAsync(video, VideoPixelFormat.Rgba, stop.Token);
        var audioFrames = viewer.ReadAudioAsync(audio, AudioFormat.Pcm16Mono24kHz, stop.Token);
        var reading = Task.Run(async () =>
        {
            await foreach (var frame in videoFrames)
            {
                using (frame)
                {
                    mouths.Add(MouthDarkness(frame));
                    captionPixels = Math.Max(captionPixels, WhitePixelsInCaptionBand(frame));
                }
            }
        }, Ct);
        var listening = Task.Run(async () =>
        {
            await foreach (var frame in audioFrames)
            {
                using (frame)
                {
                    loudest = Math.Max(loudest, Pcm16.GetRmsDbfs(frame.Samples));
                }
            }
        }, Ct);

        var duration = await avatar.SayAsync("u1", "Hello from the emulated avatar.", Ct);
        Assert.Equal("u1", (await started.Task.WaitAsync(TimeSpan.FromSeconds(30), Ct)).UtteranceId);
        Assert.Equal("Hello from the emulated avatar.", avatar.Caption);
        Assert.False((await ended.Task.WaitAsync(duration + TimeSpan.FromSeconds(30), Ct)).Interrupted);
        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Task.WhenAll(reading, listening));

        Assert.True(duration > TimeSpan.FromSeconds(1.5), $"Babble of 31 characters lasted {duration}.");
        Assert.True(mouths.Count > 10, $"Only {mouths.Count} frames.");
        Assert.True(mouths.Max() - mouths.Min() > 0.05, "The mouth did not move.");
        Assert.True(loudest > -30, $"The speech was silent ({loudest} dBFS).");
        Assert.True(captionPixels > 50, $"The caption was not drawn ({captionPixels} white pixels).");
        Assert.Null(avatar.Caption);
    }

    [Fact]
    public async Task The_emulator_speaks_the_documented_LiteAvatar_REST_protocol()
    {
        var rooms = new InProcessRoomServer();
        await using var emulator = await LiveAvatarEmulator.StartAsync(new InProcessRoomHost(rooms), cancellationToken: Ct);
        using var http = new HttpClient { BaseAddress = emulator.BaseUrl };

        using var unauthorized = await http.PostAsJsonAsync("/v1/sessions/token", new { mode = "FULL", avatar_id = LiveAvatarEmulatorOptions.PublicAvatarId }, Ct);
        Assert.Equal(HttpStatusCode.Unauthorized, unauthorized.StatusCode);
        http.DefaultRequestHeaders.Add("x-api-key", emulator.ApiKey);
        using var invalid = await http.PostAsJsonAsync("/v1/sessions/token", new { mode = "HALF", avatar_id = LiveAvatarEmulatorOptions.PublicAvatarId }, Ct);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, invalid.StatusCode);
        Assert.Equal("mode", (await invalid.Content.ReadFromJsonAsync<JsonObject>(Ct))!["detail"]![0]!["loc"]![1]!.GetValue<string>());

        using var token = await http.PostAsJsonAsync("/v1/sessions/token", new { mode = "FULL", avatar_id = LiveAvatarEmulatorOptions.PublicAvatarId }, Ct);
        var data = (await token.Content.ReadFromJsonAsync<JsonObject>(Ct))!;
        Assert.Equal(1000, data["code"]!.GetValue<int>());
        var sessionToken = data["data"]!["session_token"]!.GetValue<string>();
        using var start = new HttpRequestMessage(HttpMethod.Post, "/v1/sessions/start");
        start.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", sessionToken);
        using var started = await http.SendAsync(start, Ct);
        Assert.Equal(HttpStatusCode.Created, started.StatusCode);
        Assert.Equal(1, emulator.OpenSessionCount);
        Assert.NotNull(emulator.GetAvatar(data["data"]!["session_id"]!.GetValue<string>()));

        using var again = new HttpRequestMessage(HttpMethod.Delete, "/v1/sessions");
        again.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", sessionToken);
        using var deleted = await http.SendAsync(again, Ct);
        Assert.Equal(HttpStatusCode.OK, deleted.StatusCode);
        Assert.Equal(0, emulator.OpenSessionCount);
        Assert.Empty(rooms.RoomNames);
    }

    /// <summary>White (caption text) pixels in the bottom fifth of the picture, where nothing else is white.</summary>
    private static int WhitePixelsInCaptionBand(VideoFrame frame)
    {
        var pixels = frame.Span;
        var white = 0;
        for (var y = frame.Height * 4 / 5; y < frame.Height; y++)
        {
            for (var x = 0; x < frame.Width; x++)
            {
                var o = (y * frame.Width + x) * 4;
                if (pixels[o] > 200 && pixels[o + 1] > 200 && pixels[o + 2] > 200)
                {
                    white++;
                }
            }
        }

        return white;
    }

    /// <summary>The share of dark-red mouth pixels in the lower middle of the face.</summary>
    private static double MouthDarkness(VideoFrame frame)
    {
        var pixels = frame.Span;
        int mouth = 0, total = 0;
        for (var y = frame.Height / 2; y < frame.Height * 3 / 4; y++)
        {
            for (var x = frame.Width * 3 / 8; x < frame.Width * 5 / 8; x++)
            {
                var o = (y * frame.Width + x) * 4;
                total++;
                if (pixels[o] is > 120 and < 180 && pixels[o + 1] < 80)
                {
                    mouth++;
                }
            }
        }

        return (double)mouth / total;
    }
}
