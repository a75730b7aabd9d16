using CliWrap.Buffered;

namespace AvatarKit.Cli.Tests;

public sealed class VoiceTests
{
    [Fact]
    public async Task Chat_with_an_audio_file_turns_speech_into_a_voice_turn_the_avatar_answers()
    {
        var ct = TestContext.Current.CancellationToken;
        Assert.SkipUnless(File.Exists("/usr/bin/espeak-ng") || File.Exists("/usr/local/bin/espeak-ng"), "espeak-ng is not installed (./build.sh test installs it).");
        using var cli = new CliProcess();
        var wav = Path.Combine(cli.WorkingDirectory, "hello.wav");
        await CliWrap.Cli.Wrap("espeak-ng").WithArguments(["-w", wav, "Hello there, how are you today?"]).ExecuteBufferedAsync(ct);

        var (exitCode, output) = await cli.RunAsync(["chat", "--audio-file", wav, "--no-record"], input: string.Empty, ct);

        Assert.True(exitCode == 0, output);
        Assert.Contains("Deepgram emulator", output, StringComparison.Ordinal);
        Assert.Contains("you (voice) ›", output, StringComparison.Ordinal);
        Assert.Contains("avatar ›", output, StringComparison.Ordinal);
    }
}
