using System.Runtime.InteropServices;

namespace AvatarKit.LiveKit.Native;

/// <summary>
/// Finds and loads LiveKit's native FFI library once per process and answers the P/Invoke
/// resolver for <c>livekit_ffi</c>.
/// </summary>
/// <remarks>
/// Looked for, in order: the path in <c>AVATARKIT_LIVEKIT_FFI_PATH</c>; the runtime's own probing
/// (NuGet <c>runtimes/&lt;rid&gt;/native</c> assets listed in the app's deps.json); then
/// <c>runtimes/&lt;rid&gt;/native/</c> and the folder itself next to the app and next to this assembly
/// (project references and copied outputs).
/// </remarks>
internal static class LiveKitNativeLibrary
{
    internal const string PathVariable = "AVATARKIT_LIVEKIT_FFI_PATH";

    private static readonly Lazy<(IntPtr Handle, string? Path, string? Error)> Loaded = new(LoadCore, LazyThreadSafetyMode.ExecutionAndPublication);

    static LiveKitNativeLibrary()
    {
        NativeLibrary.SetDllImportResolver(NativeMethods.Assembly, (name, _, _) =>
            name == NativeMethods.LibraryName ? EnsureLoaded() : IntPtr.Zero);
    }

    /// <summary>Gets the file name of the library on this platform.</summary>
    internal static string FileName =>
        OperatingSystem.IsWindows() ? "livekit_ffi.dll" : OperatingSystem.IsMacOS() ? "liblivekit_ffi.dylib" : "liblivekit_ffi.so";

    /// <summary>Gets the runtime identifier whose native folder holds the library.</summary>
    internal static string RuntimeIdentifier
    {
        get
        {
            var os = OperatingSystem.IsWindows() ? "win" : OperatingSystem.IsMacOS() ? "osx" : "linux";
            var arch = RuntimeInformation.ProcessArchitecture switch
            {
                Architecture.X64 => "x64",
                Architecture.Arm64 => "arm64",
                var other => other.ToString().ToLowerInvariant(),
            };
            return $"{os}-{arch}";
        }
    }

    /// <summary>Gets the loaded library's path, or <see langword="null"/> when it came from the runtime's probing or is not loaded.</summary>
    internal static string? LoadedPath => Loaded.Value.Path;

    /// <summary>Tries to load the library.</summary>
    /// <param name="error">Why it cannot be loaded.</param>
    /// <returns><see langword="true"/> when loaded.</returns>
    internal static bool TryLoad(out string? error)
    {
        var (handle, _, message) = Loaded.Value;
        error = message;
        return handle != IntPtr.Zero;
    }

    /// <summary>Loads the library or throws a <see cref="DllNotFoundException"/> that says what is missing.</summary>
    /// <returns>The library handle.</returns>
    internal static IntPtr EnsureLoaded()
    {
        var (handle, _, error) = Loaded.Value;
        return handle != IntPtr.Zero ? handle : throw new DllNotFoundException(error);
    }

    private static (IntPtr Handle, string? Path, string? Error) LoadCore()
    {
        var failures = new List<string>();
        var explicitPath = Environment.GetEnvironmentVariable(PathVariable);
        if (!string.IsNullOrEmpty(explicitPath))
        {
            return TryLoadFile(explicitPath, failures, out var handle)
                ? (handle, explicitPath, null)
                : (IntPtr.Zero, null, Describe(failures));
        }

        if (NativeLibrary.TryLoad(NativeMethods.LibraryName, NativeMethods.Assembly, DllImportSearchPath.AssemblyDirectory | DllImportSearchPath.SafeDirectories, out var probed))
        {
            return (probed, null, null);
        }

        foreach (var directory in new[] { AppContext.BaseDirectory, Path.GetDirectoryName(NativeMethods.Assembly.Location) }.Distinct())
        {
            if (string.IsNullOrEmpty(directory))
            {
                continue;
            }

            foreach (var candidate in new[] { Path.Combine(directory, "runtimes", RuntimeIdentifier, "native", FileName), Path.Combine(directory, FileName) })
            {
                if (File.Exists(candidate) && TryLoadFile(candidate, failures, out var handle))
                {
                    return (handle, candidate, null);
                }
            }
        }

        return (IntPtr.Zero, null, Describe(failures));
    }

    private static bool TryLoadFile(string path, List<string> failures, out IntPtr handle)
    {
        try
        {
            handle = NativeLibrary.Load(path);
            return true;
        }
        catch (Exception ex) when (ex is DllNotFoundException or BadImageFormatException)
        {
            failures.Add($"{path}: {ex.Message}");
            handle = IntPtr.Zero;
            return false;
        }
    }

    private static string Describe(List<string> failures)
    {
        var reason = failures.Count == 0
            ? $"No {FileName} for {RuntimeIdentifier} was found next to the application or in runtimes/{RuntimeIdentifier}/native/."
            : "It was found but could not be loaded: " + string.Join("; ", failures);
        return $"LiveKit's native library (livekit-ffi) is not available. {reason} " +
            "The AvatarKit.LiveKit package ships it for linux-x64, linux-arm64, osx-x64, osx-arm64 and win-x64; " +
            $"when building from source it is fetched from npm by the build (Node.js and npm required), or set {PathVariable} to the library's path.";
    }
}
