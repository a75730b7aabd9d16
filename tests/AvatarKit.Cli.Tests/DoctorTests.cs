using AvatarKit.Testing.Gemini;
using AvatarKit.Testing.LiveAvatar;

namespace AvatarKit.Cli.Tests;

public sealed class DoctorTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Doctor_with_no_keys_passes_and_says_the_sandbox_stands_in()
    {
        using var cli = new CliProcess();

        var (exitCode, output) = await cli.RunAsync(["doctor"], cancellationToken: Ct);

        Assert.True(exitCode == 0, output);
        Assert.Contains("LIVEAVATAR_API_KEY not set; the sandbox avatar is used", output, StringComparison.Ordinal);
        Assert.Contains("FFmpeg", output, StringComparison.Ordinal);
        Assert.Contains("LiveKit native library", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Doctor_fails_when_keys_are_required_but_missing()
    {
        using var cli = new CliProcess();

        var (exitCode, output) = await cli.RunAsync(["doctor", "--require-keys"], cancellationToken: Ct);

        Assert.True(exitCode == 1, output);
        Assert.Contains("required check(s) failed", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Doctor_fails_on_invalid_keys_and_passes_on_valid_ones()
    {
        await using var gemini = await GeminiEmulator.StartAsync(cancellationToken: Ct);
        await using var liveAvatar = await LiveAvatarEmulator.StartAsync(new AvatarKit.Testing.InProcessRoomHost(new InProcessRoomServer()), cancellationToken: Ct);
        using var cli = new CliProcess();
        cli.Environment["GEMINI_BASE_URL"] = gemini.BaseUrl.ToString();
        cli.Environment["LIVEAVATAR_BASE_URL"] = liveAvatar.BaseUrl.ToString();
        cli.Environment["GEMINI_API_KEY"] = "wrong-key";
        cli.Environment["LIVEAVATAR_API_KEY"] = "wrong-key";

        var (badExit, badOutput) = await cli.RunAsync(["doctor"], cancellationToken: Ct);
        cli.Environment["GEMINI_API_KEY"] = gemini.ApiKey;
        cli.Environment["LIVEAVATAR_API_KEY"] = liveAvatar.ApiKey;
        var (goodExit, goodOutput) = await cli.RunAsync(["doctor"], cancellationToken: Ct);

        Assert.True(badExit == 1, badOutput);
        Assert.Contains("key rejected", badOutput, StringComparison.Ordinal);
        Assert.DoesNotContain("wrong-key", badOutput, StringComparison.Ordinal);
        Assert.Contains("avatars, 0 active session(s)", goodOutput, StringComparison.Ordinal);
        Assert.Contains("key valid, model", goodOutput, StringComparison.Ordinal);

        // With a real avatar key the LiveKit library is required; it is built only where Node.js can fetch it.
        var libraryBuilt = Directory.EnumerateFiles(Path.GetDirectoryName(CliProcess.CliPath)!, "*livekit_ffi*", SearchOption.AllDirectories).Any();
        Assert.True(goodExit == (libraryBuilt ? 0 : 1), goodOutput);
    }
}
