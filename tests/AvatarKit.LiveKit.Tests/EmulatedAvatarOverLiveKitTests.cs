using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using AvatarKit.Testing.LiveAvatar;
using AvatarKit.Testing.Sandbox;

namespace AvatarKit.LiveKit.Tests;

/// <summary>
/// What `avatarkit emulate --livekit` runs: the LiveAvatar emulator with its avatar's rooms in the
/// fake LiveKit server. A LiveKit client joins a FULL session with the URL and token the session
/// start returned, as it would join HeyGen's room.
/// </summary>
[Collection(LiveKitTestGroup.Name)]
public sealed class EmulatedAvatarOverLiveKitTests(LiveKitServerFixture fixture)
{
    [Fact]
    public async Task A_FULL_session_avatar_streams_720p_video_and_audio_and_speaks_when_told_on_the_data_channel()
    {
        LiveKitServerFixture.RequireServer();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(60));
        var ct = timeout.Token;
        await using var sandbox = await AvatarKitSandbox.StartAsync(
            new SandboxOptions { Rooms = fixture.Server, Deepgram = false, Gemini = false, VideoWidth = 1280, VideoHeight = 720 }, ct);
        var liveAvatar = sandbox.LiveAvatar!;
        using var http = new HttpClient { BaseAddress = liveAvatar.BaseUrl };

        // The documented FULL flow: a session token with the API key, then start with that token.
        using var tokenRequest = new HttpRequestMessage(HttpMethod.Post, "v1/sessions/token")
        {
            Content = JsonContent.Create(new JsonObject { ["mode"] = "FULL", ["avatar_id"] = LiveAvatarEmulatorOptions.SandboxAvatarId, ["is_sandbox"] = true }),
        };
        tokenRequest.Headers.Add("X-API-KEY", liveAvatar.ApiKey);
        var token = await SendAsync(http, tokenRequest, ct);
        using var startRequest = new HttpRequestMessage(HttpMethod.Post, "v1/sessions/start") { Content = JsonContent.Create(new JsonObject()) };
        startRequest.Headers.Authorization = new("Bearer", (string?)token["session_token"]);
        var session = await SendAsync(http, startRequest, ct);
        var url = new Uri((string)session["livekit_url"]!);
        Assert.Equal(fixture.Server.Url.Authority, url.Authority); // the fake LiveKit server, not the in-process room

        await using var room = (LiveKitRoom)await fixture.Connector.ConnectAsync(url, (string)session["livekit_client_token"]!, ct);
        Assert.Equal((string?)session["session_id"], room.Name);
        Assert.Equal("client", room.LocalIdentity);
        var video = await room.WaitForTrackAsync("heygen", RoomTrackKind.Video, ct);
        var audio = await room.WaitForTrackAsync("heygen", RoomTrackKind.Audio, ct);
        var responses = room.ReadDataAsync(LiveAvatarEmulator.ResponseTopic, ct).GetAsyncEnumerator(ct);

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var mouths = new List<(double Darkness, bool Speaking)>();
        var sizes = new HashSet<(int, int)>();
        var speaking = false;
        var reading = Task.Run(
            async () =>
            {
                await foreach (var frame in room.ReadVideoAsync(video, VideoPixelFormat.Rgba, stop.Token))
                {
                    using (frame)
                    {
                        var darkness = MouthDarkness(frame);
                        lock (mouths)
                        {
                            sizes.Add((frame.Width, frame.Height));
                            mouths.Add((darkness, Volatile.Read(ref speaking)));
                        }
                    }
                }
            },
            ct);
        var levels = new List<(double Dbfs, bool Speaking)>();
        var listening = Task.Run(
            async () =>
            {
                await foreach (var frame in room.ReadAudioAsync(audio, AudioFormat.Pcm16Mono24kHz, stop.Token))
                {
                    using (frame)
                    {
                        var level = Pcm16.GetRmsDbfs(frame.Samples);
                        lock (levels)
                        {
                            levels.Add((level, Volatile.Read(ref speaking)));
                        }
                    }
                }
            },
            ct);
        while (Count(mouths) < 10 || Count(levels) < 50)
        {
            await Task.Delay(50, ct); // a quiet baseline first
        }

        var quietBefore = Snapshot(mouths).Select(m => m.Darkness).Order().ToList();
        var speak = new JsonObject { ["event_type"] = "avatar.speak_text", ["event_id"] = "speak-1", ["session_id"] = room.Name, ["text"] = "Hello from the LiveKit room." };
        await room.PublishDataAsync(Encoding.UTF8.GetBytes(speak.ToJsonString()), new RoomDataOptions { Topic = LiveAvatarEmulator.ControlTopic }, ct);

        var events = new List<string>();
        while (!events.Contains("avatar.speak_ended"))
        {
            Assert.True(await responses.MoveNextAsync());
            var message = JsonNode.Parse(responses.Current.Payload.Span)!.AsObject();
            Assert.Equal("heygen", responses.Current.SenderIdentity);
            var type = (string)message["event_type"]!;
            events.Add(type);
            if (type is "avatar.speak_started" or "avatar.speak_ended")
            {
                Assert.Equal("speak-1", (string?)message["source_event_id"]);
                Volatile.Write(ref speaking, type == "avatar.speak_started");
            }
        }

        // The mouth closes after the speech: a frame that arrived after the end event shows it as closed as
        // before the speech (the median quiet frame, with room for the codec's noise).
        var endedAt = Count(mouths);
        var closed = quietBefore[quietBefore.Count / 2] + 0.02;
        using (var closing = CancellationTokenSource.CreateLinkedTokenSource(ct))
        {
            closing.CancelAfter(TimeSpan.FromSeconds(30));
            while (!Snapshot(mouths).Skip(endedAt).Any(m => m.Darkness <= closed) && !closing.IsCancellationRequested)
            {
                await Task.Delay(50, CancellationToken.None);
            }
        }

        Assert.True(Snapshot(mouths).Skip(endedAt).Any(m => m.Darkness <= closed), $"the mouth did not close after the speech: {string.Join(", ", Snapshot(mouths).Skip(endedAt).Select(m => m.Darkness.ToString("0.000", System.Globalization.CultureInfo.InvariantCulture)))} after it, closed at most {closed:0.000}");
        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Task.WhenAll(reading, listening));
        await responses.DisposeAsync();

        Assert.Equal(["avatar.transcription", "avatar.speak_started", "avatar.speak_ended"], events);
        Assert.Equal([(1280, 720)], sizes);
        var spoken = mouths.Where(m => m.Speaking).Select(m => m.Darkness).ToList();
        var quiet = mouths.Where(m => !m.Speaking).Select(m => m.Darkness).ToList();
        Assert.True(spoken.Count >= 5, $"{spoken.Count} frames while speaking");
        Assert.True(spoken.Max() > quiet.Min() + 0.05, $"mouth opening: speaking up to {spoken.Max():0.000}, quiet from {quiet.Min():0.000}");
        var loudest = levels.Where(l => l.Speaking).Max(l => l.Dbfs);
        var baseline = levels.Where(l => !l.Speaking).Select(l => l.Dbfs).Order().ElementAt(levels.Count(l => !l.Speaking) / 2);
        Assert.True(loudest > -30 && loudest > baseline + 20, $"audio energy: speaking up to {loudest:0.0} dBFS, quiet median {baseline:0.0} dBFS");
    }

    private static List<T> Snapshot<T>(List<T> list)
    {
        lock (list)
        {
            return [.. list];
        }
    }

    private static int Count<T>(List<T> list)
    {
        lock (list)
        {
            return list.Count;
        }
    }

    private static async Task<JsonObject> SendAsync(HttpClient http, HttpRequestMessage request, CancellationToken ct)
    {
        using var response = await http.SendAsync(request, ct);
        var body = await response.Content.ReadFromJsonAsync<JsonObject>(ct);
        Assert.True(response.IsSuccessStatusCode, $"{request.RequestUri}: {(int)response.StatusCode} {body}");
        return body!["data"]!.AsObject();
    }

    /// <summary>The share of the emulated face's mouth-red pixels in the lower middle of the frame (sampled every other pixel).</summary>
    private static double MouthDarkness(VideoFrame frame)
    {
        var pixels = frame.Span;
        int mouth = 0, total = 0;
        for (var y = frame.Height / 2; y < frame.Height * 3 / 4; y += 2)
        {
            for (var x = frame.Width * 3 / 8; x < frame.Width * 5 / 8; x += 2)
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
