using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace AvatarKit.Testing.LiveAvatar;

/// <summary>The session endpoints: token, start, stop, keep-alive, list.</summary>
public sealed partial class LiveAvatarEmulator
{
    private static readonly string[] Qualities = ["very_high", "high", "medium", "low"];
    private static readonly string[] Encodings = ["VP8", "H264"];
    private static readonly string[] InteractivityTypes = ["CONVERSATIONAL", "PUSH_TO_TALK"];

    private async Task<IResult> CreateTokenAsync(HttpRequest request)
    {
        if (!HasApiKey(request))
        {
            return Error(401, "Invalid API key");
        }

        if (await EmulatorJson.ReadObjectAsync(request).ConfigureAwait(false) is not { } body)
        {
            return Validation("body", "JSON decode error", "json_invalid");
        }

        var mode = body["mode"] is null ? "FULL" : body.GetString("mode");
        if (mode is not ("FULL" or "LITE"))
        {
            return Validation("mode", "Input should be 'FULL' or 'LITE'", "literal_error", body["mode"]);
        }

        var avatarId = body.GetString("avatar_id");
        if (avatarId is null)
        {
            return Validation("avatar_id", "Field required", "missing");
        }

        if (!Guid.TryParse(avatarId, out _))
        {
            return Validation("avatar_id", "Input should be a valid UUID", "uuid_parsing", body["avatar_id"]);
        }

        if (body["video_settings"] is JsonObject video)
        {
            if (video["quality"] is not null && !Qualities.Contains(video.GetString("quality")))
            {
                return Validation("quality", "Input should be 'very_high', 'high', 'medium' or 'low'", "enum", video["quality"]);
            }

            if (video["encoding"] is not null && !Encodings.Contains(video.GetString("encoding")))
            {
                return Validation("encoding", "Input should be 'VP8' or 'H264'", "enum", video["encoding"]);
            }
        }

        if (body["interactivity_type"] is not null && !InteractivityTypes.Contains(body.GetString("interactivity_type")))
        {
            return Validation("interactivity_type", "Input should be 'CONVERSATIONAL' or 'PUSH_TO_TALK'", "enum", body["interactivity_type"]);
        }

        if (mode == "LITE" && body.ContainsKey("avatar_persona"))
        {
            return Validation("avatar_persona", "Extra inputs are not permitted", "extra_forbidden", body["avatar_persona"]);
        }

        if (!LiveAvatarCatalog.AvatarIds.Contains(avatarId))
        {
            return Error(400, $"Avatar {avatarId} not found");
        }

        var isSandbox = body["is_sandbox"] is JsonValue sandbox && sandbox.TryGetValue<bool>(out var flag) && flag;
        if (isSandbox && !string.Equals(avatarId, LiveAvatarEmulatorOptions.SandboxAvatarId, StringComparison.OrdinalIgnoreCase))
        {
            return Error(400, "Sandbox sessions can only use the sandbox avatar");
        }

        var id = Guid.NewGuid().ToString();
        var session = new EmulatedLiveAvatarSession(id, CreateSessionToken(id, body), mode, avatarId, isSandbox);
        _sessions[id] = session;
        return Ok(new JsonObject { ["session_id"] = id, ["session_token"] = session.Token });
    }

    private async Task<IResult> StartSessionAsync(HttpRequest request)
    {
        if (FromBearer(request) is not { } session)
        {
            return Error(401, "Invalid or expired session token");
        }

        if (session.StartedAt is not null || session.EndedAt is not null)
        {
            return Error(400, session.EndedAt is null ? "Session already started" : "Session was stopped");
        }

        if (OpenSessionCount >= _options.MaxConcurrentSessions)
        {
            return Error(400, $"Concurrent session limit reached: your plan allows {_options.MaxConcurrentSessions} active session(s). Stop an active session and try again.");
        }

        session.StartedAt = DateTimeOffset.UtcNow;
        try
        {
            session.Avatar = await EmulatedAvatar.JoinAsync(_rooms, session.Id, _options.Avatar, _options.TextToSpeech, request.HttpContext.RequestAborted).ConfigureAwait(false);
            if (!session.IsLite)
            {
                // FULL: LiveAvatar's agent is a participant of its own; the web SDK's start waits for it and the avatar.
                var agentGrant = _rooms.CreateGrant(session.Id, AgentIdentityPrefix + session.Id);
                session.Agent = await _rooms.Connector.ConnectAsync(agentGrant.Url, agentGrant.Token, request.HttpContext.RequestAborted).ConfigureAwait(false);
            }
        }
        catch
        {
            // Start failed: the escrowed minute is refunded and the session never counts.
            session.StartedAt = null;
            await session.LeaveRoomAsync().ConfigureAwait(false);
            throw;
        }

        if (session.EndedAt is not null)
        {
            // Stopped while starting (the client gave up): the avatar leaves at once.
            await session.LeaveRoomAsync().ConfigureAwait(false);
            return Error(400, "Session was stopped");
        }

        if (session.IsLite)
        {
            LiteSocketEmulation.Attach(session);
        }
        else
        {
            AttachFull(session);
        }

        var maxDuration = session.IsSandbox ? _options.SandboxSessionDuration : _options.MaxSessionDuration;
        _ = Task.Run(() => WatchAsync(session, maxDuration));
        var client = _rooms.CreateGrant(session.Id, "client");
        var agent = _rooms.CreateGrant(session.Id, "agent");
        var data = new JsonObject
        {
            ["session_id"] = session.Id,
            ["livekit_url"] = client.Url.ToString(),
            ["livekit_client_token"] = client.Token,
            ["livekit_agent_token"] = agent.Token,
            ["max_session_duration"] = (int)Math.Ceiling(maxDuration.TotalSeconds),
        };
        if (session.IsLite)
        {
            var ws = new UriBuilder(BaseUrl) { Scheme = "ws", Path = $"/v1/ws/lite/{session.Id}", Query = $"token={session.WebSocketToken}" };
            data["ws_url"] = ws.Uri.ToString();
        }

        return Ok(data, StatusCodes.Status201Created);
    }

    private async Task<IResult> StopAsync(HttpRequest request, bool keepAlive)
    {
        if (await EmulatorJson.ReadObjectAsync(request).ConfigureAwait(false) is not { } body)
        {
            return Validation("body", "JSON decode error", "json_invalid");
        }

        EmulatedLiveAvatarSession? session;
        if (FromBearer(request) is { } bearer)
        {
            session = bearer;
        }
        else if (HasApiKey(request))
        {
            var id = body.GetString("session_id");
            if (id is null)
            {
                return Error(400, "session_id is required when authenticating with an API key");
            }

            if (!_sessions.TryGetValue(id, out session))
            {
                return Error(404, $"Session {id} not found");
            }
        }
        else
        {
            return Error(401, "Invalid API key or session token");
        }

        if (keepAlive)
        {
            session.Touch();
        }
        else
        {
            await EndAsync(session, body.GetString("reason") ?? "USER_CLOSED").ConfigureAwait(false);
        }

        return Ok(null);
    }

    private IResult ListSessions(HttpRequest request)
    {
        if (!HasApiKey(request))
        {
            return Error(401, "Invalid API key");
        }

        var type = request.Query["type"].ToString();
        if (type is not ("active" or "historic"))
        {
            return EmulatorJson.Json(
                new JsonObject
                {
                    ["detail"] = new JsonArray(new JsonObject
                    {
                        ["loc"] = new JsonArray("query", "type"),
                        ["msg"] = type.Length == 0 ? "Field required" : "Input should be 'active' or 'historic'",
                        ["type"] = type.Length == 0 ? "missing" : "enum",
                    }),
                },
                StatusCodes.Status422UnprocessableEntity);
        }

        var historic = type == "historic";
        var items = new JsonArray([.. _sessions.Values
            .Where(s => historic ? s.EndedAt is not null && s.StartedAt is not null : s.IsActive)
            .OrderBy(s => s.CreatedAt)
            .Select(s => (JsonNode)SessionEntry(s, historic))]);
        return Page(request, items, requireKey: true);
    }

    private static JsonObject SessionEntry(EmulatedLiveAvatarSession session, bool historic)
    {
        var started = session.StartedAt ?? session.CreatedAt;
        var entry = new JsonObject
        {
            ["id"] = session.Id,
            ["created_at"] = session.CreatedAt.ToString("O"),
            ["updated_at"] = (session.EndedAt ?? DateTimeOffset.UtcNow).ToString("O"),
            ["duration"] = (int)((session.EndedAt ?? DateTimeOffset.UtcNow) - started).TotalSeconds,
            ["source"] = "API",
            ["mode"] = session.Mode,
            ["is_sandbox"] = session.IsSandbox,
            ["credits_consumed"] = session.CreditsConsumed(2, 1),
        };
        if (historic)
        {
            entry["end_at"] = session.EndedAt?.ToString("O");
            entry["end_reason"] = session.EndReason;
        }

        return entry;
    }

    private async Task WatchAsync(EmulatedLiveAvatarSession session, TimeSpan maxDuration)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(100));
        try
        {
            while (await timer.WaitForNextTickAsync(session.Lifetime.Token).ConfigureAwait(false))
            {
                if (DateTimeOffset.UtcNow - session.StartedAt >= maxDuration)
                {
                    await EndAsync(session, "MAX_DURATION_REACHED").ConfigureAwait(false);
                }
                else if (TimeSpan.FromMilliseconds(Environment.TickCount64 - session.LastActivityTicks) >= _options.IdleTimeout)
                {
                    await EndAsync(session, "IDLE_TIMEOUT").ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private static async Task EndAsync(EmulatedLiveAvatarSession session, string reason)
    {
        if (!session.TryEnd(reason))
        {
            return;
        }

        if (session.StartedAt is null)
        {
            return;
        }

        if (session.IsLite)
        {
            LiteSocketEmulation.PostClosed(session);
        }
        else
        {
            // The docs and the SDK disagree on the field name; send both.
            session.Post(new JsonObject
            {
                ["event_type"] = "session.stopped",
                ["event_id"] = Guid.NewGuid().ToString(),
                ["stop_reason"] = reason,
                ["end_reason"] = reason,
            });
        }

        session.Outbox.Writer.TryComplete();
        if (session.Pump is { } pump)
        {
            await pump.WaitAsync(TimeSpan.FromSeconds(2)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        await session.Lifetime.CancelAsync().ConfigureAwait(false);
        await session.LeaveRoomAsync().ConfigureAwait(false);
    }

    // A JWT-shaped session token whose payload carries the token request as start_session_data, as
    // LiveAvatar's does: the web SDK reads the session's mode (FULL or LITE) from it.
    private static string CreateSessionToken(string sessionId, JsonObject request)
    {
        static string Encode(byte[] bytes) => Base64Url.EncodeToString(bytes);
        var data = (JsonObject)request.DeepClone();
        data["mode"] ??= "FULL";
        var payload = new JsonObject
        {
            ["sub"] = sessionId,
            ["session_id"] = sessionId,
            ["iat"] = DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
            ["start_session_data"] = data,
        };
        return $"{Encode("{\"alg\":\"HS256\",\"typ\":\"JWT\"}"u8.ToArray())}.{Encode(Encoding.UTF8.GetBytes(payload.ToJsonString()))}.{Encode(RandomNumberGenerator.GetBytes(24))}";
    }
}
