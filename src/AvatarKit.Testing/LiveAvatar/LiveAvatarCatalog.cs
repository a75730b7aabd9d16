using System.Text.Json.Nodes;

namespace AvatarKit.Testing.LiveAvatar;

/// <summary>The emulator's fixed catalogue: avatars, voices and contexts in the API's shapes.</summary>
internal static class LiveAvatarCatalog
{
    public const string UserAvatarId = "22222222-3333-4444-8555-666666666666";
    public const string VoiceId = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee";
    public const string ContextId = "99999999-8888-4777-8666-555555555555";
    private const string Timestamp = "2026-06-01T10:00:00Z";

    public static IReadOnlySet<string> AvatarIds { get; } =
        new HashSet<string>([LiveAvatarEmulatorOptions.SandboxAvatarId, LiveAvatarEmulatorOptions.PublicAvatarId, UserAvatarId], StringComparer.OrdinalIgnoreCase);

    public static JsonArray PublicAvatars() =>
    [
        Avatar(LiveAvatarEmulatorOptions.SandboxAvatarId, "Wayne"),
        Avatar(LiveAvatarEmulatorOptions.PublicAvatarId, "Ann"),
    ];

    public static JsonArray UserAvatars() => [Avatar(UserAvatarId, "My avatar")];

    public static JsonArray Voices(bool isPrivate) => isPrivate
        ? []
        : [
            new JsonObject
            {
                ["id"] = VoiceId, ["name"] = "Ann (warm)", ["description"] = null, ["language"] = "en", ["gender"] = "female",
                ["created_at"] = Timestamp, ["updated_at"] = Timestamp, ["tags"] = new JsonArray("warm", "conversational"),
            },
        ];

    public static JsonArray Contexts() =>
        [new JsonObject { ["id"] = ContextId, ["name"] = "Support agent", ["created_at"] = Timestamp, ["updated_at"] = Timestamp }];

    private static JsonObject Avatar(string id, string name) => new()
    {
        ["id"] = id,
        ["name"] = name,
        ["created_at"] = Timestamp,
        ["updated_at"] = Timestamp,
        ["error_message"] = null,
        ["space_id"] = null,
        ["type"] = "VIDEO",
        ["status"] = "ACTIVE",
        ["preview_url"] = $"https://files.liveavatar.example/previews/{id}.webp",
        ["is_expired"] = false,
        ["default_voice"] = new JsonObject { ["id"] = VoiceId, ["name"] = "Ann (warm)" },
        ["is_1080p"] = false,
    };
}
