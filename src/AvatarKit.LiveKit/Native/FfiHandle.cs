using System.Runtime.InteropServices;

namespace AvatarKit.LiveKit.Native;

/// <summary>An owned handle of the FFI server's handle table, dropped exactly once.</summary>
internal sealed class FfiHandle : SafeHandle
{
    private static long s_live;

    private FfiHandle(ulong id)
        : base(IntPtr.Zero, ownsHandle: true)
    {
        SetHandle(new IntPtr(unchecked((long)id)));
        if (id != 0)
        {
            Interlocked.Increment(ref s_live);
        }
    }

    /// <summary>Gets the number of handles this process owns and has not dropped yet.</summary>
    internal static long LiveCount => Interlocked.Read(ref s_live);

    /// <summary>Gets the handle id the FFI protocol uses.</summary>
    internal ulong Id => unchecked((ulong)handle.ToInt64());

    /// <inheritdoc />
    public override bool IsInvalid => handle == IntPtr.Zero;

    /// <summary>Takes ownership of a handle id received from the FFI server.</summary>
    /// <param name="id">The id; 0 means none.</param>
    /// <returns>The owner.</returns>
    internal static FfiHandle Own(ulong id) => new(id);

    /// <summary>Takes ownership of an owned handle received from the FFI server.</summary>
    /// <param name="owned">The protocol message.</param>
    /// <returns>The owner.</returns>
    internal static FfiHandle Own(global::LiveKit.Proto.FfiOwnedHandle owned) => new(owned.Id);

    /// <summary>Drops a handle received in a message we do not keep.</summary>
    /// <param name="owned">The protocol message; ignored when null.</param>
    internal static void Drop(global::LiveKit.Proto.FfiOwnedHandle? owned)
    {
        if (owned is not null && owned.Id != 0)
        {
            new FfiHandle(owned.Id).Dispose();
        }
    }

    /// <inheritdoc />
    protected override bool ReleaseHandle()
    {
        Interlocked.Decrement(ref s_live);
        return NativeMethods.DropHandle(Id);
    }
}
