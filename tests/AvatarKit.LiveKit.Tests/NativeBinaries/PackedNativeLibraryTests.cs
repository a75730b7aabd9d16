using System.Diagnostics;
using System.Xml.Linq;

namespace AvatarKit.LiveKit.Tests.NativeBinaries;

/// <summary>
/// The native libraries `dotnet pack` ships for platforms these tests cannot run on, inspected as
/// files: each must export LiveKit's four FFI entry points, and its Node-API imports must be bound
/// so that a plain NativeLibrary.Load (what LiveKitNativeLibrary does) succeeds outside Node.
/// </summary>
public sealed class PackedNativeLibraryTests
{
    private static readonly string[] EntryPoints = ["livekit_ffi_initialize", "livekit_ffi_request", "livekit_ffi_drop_handle", "livekit_ffi_dispose"];
    private static readonly Lazy<Task<IReadOnlyDictionary<string, string>>> Libraries = new(FetchAllAsync);

    public static TheoryData<string> Platforms => ["linux-x64", "linux-arm64", "osx-x64", "osx-arm64", "win-x64"];

    [Theory]
    [MemberData(nameof(Platforms))]
    public async Task Each_packed_library_is_built_for_its_platform_and_exports_the_four_FFI_entry_points(string rid)
    {
        var binary = NativeBinary.Read((await LibrariesAsync())[rid]);

        var (format, architecture) = rid.Split('-') switch
        {
            ["linux", var arch] => ("ELF", arch),
            ["osx", var arch] => ("Mach-O", arch),
            ["win", var arch] => ("PE", arch),
            _ => throw new ArgumentException(rid, nameof(rid)),
        };
        Assert.Equal((format, architecture), (binary.Format, binary.Architecture));
        Assert.All(EntryPoints, name => Assert.Contains(name, binary.Exports));
    }

    [Theory]
    [InlineData("linux-x64")]
    [InlineData("linux-arm64")]
    public async Task Linux_libraries_import_Node_API_only_weakly_and_need_only_the_C_and_C_plus_plus_runtimes(string rid)
    {
        var binary = NativeBinary.Read((await LibrariesAsync())[rid]);

        // The build marks them weak (the library is linked BIND_NOW): unresolved, they become null instead of failing dlopen.
        var napi = binary.Imports.Where(i => i.Key.StartsWith("napi_", StringComparison.Ordinal)).ToList();
        Assert.True(napi.Count >= 40, $"{napi.Count} napi_* imports");
        Assert.All(napi, i => Assert.Equal(ImportBinding.Weak, i.Value));
        Assert.All(binary.Libraries, library => Assert.Matches(@"^(libc|libm|libdl|libpthread|libstdc\+\+|libgcc_s|ld-linux-(x86-64|aarch64))\.so\.\d+$", library));
    }

    [Theory]
    [InlineData("osx-x64")]
    [InlineData("osx-arm64")]
    public async Task macOS_libraries_look_Node_API_up_lazily_in_the_flat_namespace_and_link_only_system_libraries(string rid)
    {
        var binary = NativeBinary.Read((await LibrariesAsync())[rid]);

        // Linked with -undefined dynamic_lookup and classic lazy binding (no chained fixups): dlopen
        // does not resolve them, so no stub and no edit is needed; they would resolve on first call, which never happens.
        var napi = binary.Imports.Where(i => i.Key.StartsWith("napi_", StringComparison.Ordinal)).ToList();
        Assert.True(napi.Count >= 40, $"{napi.Count} napi_* imports");
        Assert.All(napi, i => Assert.Equal(ImportBinding.LazyFlatLookup, i.Value));
        Assert.DoesNotContain(binary.Imports, i => !i.Key.StartsWith("napi_", StringComparison.Ordinal) && i.Value == ImportBinding.LazyFlatLookup);
        Assert.All(binary.Libraries, library => Assert.Matches("^(/System/Library/|/usr/lib/)", library));
    }

    [Fact]
    public async Task The_Windows_library_imports_no_Node_API_and_only_DLLs_that_ship_with_Windows()
    {
        var binary = NativeBinary.Read((await LibrariesAsync())["win-x64"]);

        // napi-rs resolves Node-API at run time from the host process (GetProcAddress) when Node
        // registers the module; the import tables name no node.exe and no napi_* symbol, so
        // LoadLibrary needs nothing from Node, and the C runtime is linked statically.
        Assert.DoesNotContain(binary.Imports.Keys, name => name.StartsWith("napi_", StringComparison.Ordinal));
        Assert.NotEmpty(binary.Libraries);
        Assert.All(binary.Libraries, library => Assert.Matches(
            "^(?i:kernel32|ntdll|advapi32|user32|ws2_32|bcrypt|bcryptprimitives|crypt32|winmm|ole32|oleaut32|msdmo|iphlpapi|secur32|shell32|dbghelp|api-ms-win-core-[a-z0-9-]+)\\.dll$",
            library));
    }

    private static async Task<IReadOnlyDictionary<string, string>> LibrariesAsync()
    {
        Assert.SkipWhen(FindOnPath("node") is null, "Fetching the packed native libraries needs Node.js and npm (./build.sh installs them).");
        return await Libraries.Value;
    }

    // Runs the build's own fetch script for every platform the package ships (as `dotnet pack`
    // does): npm pack, sha256 check, the Linux ELF edit. Cached under the project's obj folder.
    private static async Task<IReadOnlyDictionary<string, string>> FetchAllAsync()
    {
        var project = FindProjectDirectory();
        var xml = XDocument.Load(Path.Combine(project, "AvatarKit.LiveKit.csproj"));
        var version = xml.Descendants("LiveKitFfiVersion").Single().Value;
        var natives = xml.Descendants("LiveKitNative").Select(n => (
            Rid: (string)n.Attribute("Include")!,
            Spec: $"{(string)n.Attribute("Include")!}={(string)n.Attribute("Package")!}@{version}:{(string)n.Attribute("Entry")!}:{(string)n.Attribute("LibraryName")!}:{(string)n.Attribute("Sha256")!}",
            File: (string)n.Attribute("LibraryName")!)).ToList();
        var output = Path.Combine(project, "obj", "livekit-ffi");
        var start = new ProcessStartInfo("node", [Path.Combine(project, "build", "fetch-native.mjs"), Path.Combine(output, "cache"), output, .. natives.Select(n => n.Spec)])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        using var process = Process.Start(start) ?? throw new InvalidOperationException("node did not start.");
        var errors = process.StandardError.ReadToEndAsync();
        await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, $"fetch-native.mjs failed ({process.ExitCode}): {await errors}");
        return natives.ToDictionary(n => n.Rid, n => Path.Combine(output, "runtimes", n.Rid, "native", n.File), StringComparer.Ordinal);
    }

    private static string FindProjectDirectory()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            var candidate = Path.Combine(directory.FullName, "src", "AvatarKit.LiveKit");
            if (File.Exists(Path.Combine(candidate, "AvatarKit.LiveKit.csproj")))
            {
                return candidate;
            }
        }

        throw new InvalidOperationException("The AvatarKit.LiveKit project folder was not found above the test output.");
    }

    private static string? FindOnPath(string tool) =>
        (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(directory => Path.Combine(directory, tool))
            .FirstOrDefault(path => File.Exists(path) || File.Exists(path + ".exe"));
}
