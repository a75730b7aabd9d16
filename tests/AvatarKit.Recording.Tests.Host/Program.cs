using System.Globalization;
using AvatarKit;
using AvatarKit.Recording.Session;
using AvatarKit.Recording.Tests.Support;

// Records a synthetic avatar (1280x720, frame counter, beeps) from an in-process room in real time
// until the process is killed. Prints "encoder <pid>" once, then "written <seconds> <shift> <dropped>" (media time
// handed to ffmpeg, how far the avatar's frames were moved later when a stalled source was
// re-anchored, and how many video frames were dropped while the encoder caught up) every 40 ms, so the test knows how much was recorded, and where, when it kills this process.
// usage: AvatarKit.Recording.Tests.Host <output directory> <session id>
if (args.Length != 2)
{
    await Console.Error.WriteLineAsync("usage: AvatarKit.Recording.Tests.Host <output directory> <session id>");
    return 2;
}

var server = new InProcessRoomServer();
await using var avatar = await SyntheticAvatar.JoinAsync(server, "host");
var viewer = await server.JoinAsync("host", "recorder");
var options = new RecordingOptions { OutputDirectory = args[0], Preset = "ultrafast", IdleAfter = TimeSpan.FromSeconds(3) };
var recording = (FfmpegSessionRecording)await new FfmpegSessionRecorder(options).StartAsync(
    new SessionRecordingRequest { SessionId = args[1], Room = viewer, ParticipantIdentity = "avatar" });
await recording.SourcesStarted;
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"encoder {recording.EncoderProcessId}"));

var publishing = avatar.PublishAsync(TimeSpan.Zero, TimeSpan.FromMinutes(10), Pacing.RealTime());
while (!publishing.IsCompleted)
{
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"written {recording.WrittenDuration.TotalSeconds:0.000} {recording.AvatarClockShift.TotalSeconds:0.000} {recording.DroppedVideoFrames}"));
    await Task.Delay(40);
}

await publishing;
await recording.CompleteAsync();
return 0;
