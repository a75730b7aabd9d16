using System.Reflection;
using System.Runtime.InteropServices;

namespace AvatarKit.LiveKit.Native;

/// <summary>The four C entry points of LiveKit's FFI library (livekit-ffi <c>cabi.rs</c>).</summary>
internal static unsafe partial class NativeMethods
{
    internal const string LibraryName = "livekit_ffi";

    [LibraryImport(LibraryName, EntryPoint = "livekit_ffi_initialize", StringMarshalling = StringMarshalling.Utf8)]
    internal static partial void Initialize(delegate* unmanaged<byte*, nuint, void> callback, [MarshalAs(UnmanagedType.U1)] bool captureLogs, string sdk, string sdkVersion);

    [LibraryImport(LibraryName, EntryPoint = "livekit_ffi_request")]
    internal static partial ulong Request(byte* data, nuint length, byte** response, nuint* responseLength);

    [LibraryImport(LibraryName, EntryPoint = "livekit_ffi_drop_handle")]
    [return: MarshalAs(UnmanagedType.U1)]
    internal static partial bool DropHandle(ulong handle);

    [LibraryImport(LibraryName, EntryPoint = "livekit_ffi_dispose")]
    internal static partial void Dispose();

    internal static Assembly Assembly => typeof(NativeMethods).Assembly;
}
