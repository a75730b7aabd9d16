using System.Buffers.Binary;
using System.Text;

namespace AvatarKit.LiveKit.Tests.NativeBinaries;

/// <summary>How an imported symbol gets resolved when the library is loaded.</summary>
internal enum ImportBinding
{
    /// <summary>Resolved when the library loads: a missing symbol fails the load.</summary>
    AtLoad,

    /// <summary>Weak (ELF): resolved to null when missing; the load succeeds.</summary>
    Weak,

    /// <summary>Lazy flat-namespace lookup (Mach-O): resolved on first call, never at load.</summary>
    LazyFlatLookup,
}

/// <summary>What a loader needs to know about a shared library: its architecture, its exports, its imports and where they come from.</summary>
/// <param name="Format">ELF, Mach-O or PE.</param>
/// <param name="Architecture">x64 or arm64.</param>
/// <param name="Exports">Exported function names (without Mach-O's leading underscore).</param>
/// <param name="Imports">Imported symbol names (without the underscore) and how each is bound.</param>
/// <param name="Libraries">Libraries it links against (ELF NEEDED, Mach-O LC_LOAD_DYLIB, PE import and delay-import DLLs).</param>
/// <param name="ImportsByLibrary">PE only: imported names per DLL.</param>
internal sealed record NativeBinary(
    string Format,
    string Architecture,
    IReadOnlySet<string> Exports,
    IReadOnlyDictionary<string, ImportBinding> Imports,
    IReadOnlyList<string> Libraries,
    IReadOnlyDictionary<string, IReadOnlyList<string>> ImportsByLibrary)
{
    public static NativeBinary Read(string path)
    {
        var bytes = File.ReadAllBytes(path);
        return BinaryPrimitives.ReadUInt32BigEndian(bytes) switch
        {
            0x7f454c46 => Elf.Read(bytes),
            0xcffaedfe => MachO.Read(bytes),
            _ when bytes[0] == 'M' && bytes[1] == 'Z' => Pe.Read(bytes),
            var magic => throw new InvalidDataException($"{path}: unknown binary format (magic 0x{magic:x8})."),
        };
    }

    private static string CString(byte[] bytes, int offset) =>
        Encoding.Latin1.GetString(bytes, offset, Array.IndexOf(bytes, (byte)0, offset) - offset);

    private static ushort U16(byte[] b, long o) => BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan((int)o));

    private static uint U32(byte[] b, long o) => BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan((int)o));

    private static long U64(byte[] b, long o) => checked((long)BinaryPrimitives.ReadUInt64LittleEndian(b.AsSpan((int)o)));

    /// <summary>64-bit little-endian ELF: .dynsym and .dynamic.</summary>
    private static class Elf
    {
        public static NativeBinary Read(byte[] b)
        {
            if (b[4] != 2 || b[5] != 1)
            {
                throw new InvalidDataException("Only 64-bit little-endian ELF is expected.");
            }

            var machine = U16(b, 0x12) switch { 62 => "x64", 183 => "arm64", var m => $"machine {m}" };
            var shoff = U64(b, 0x28);
            var shentsize = U16(b, 0x3a);
            var sections = Enumerable.Range(0, U16(b, 0x3c)).Select(i => shoff + i * shentsize)
                .Select(o => (Type: U32(b, o + 4), Offset: U64(b, o + 0x18), Size: U64(b, o + 0x20), Link: (int)U32(b, o + 0x28), EntSize: U64(b, o + 0x38)))
                .ToArray();
            var exports = new HashSet<string>(StringComparer.Ordinal);
            var imports = new Dictionary<string, ImportBinding>(StringComparer.Ordinal);
            var needed = new List<string>();
            foreach (var section in sections)
            {
                var strtab = sections[section.Link].Offset;
                if (section.Type == 11)
                {
                    // SHT_DYNSYM: st_name u32, st_info u8, st_other u8, st_shndx u16, st_value, st_size.
                    for (var s = section.Offset + section.EntSize; s < section.Offset + section.Size; s += section.EntSize)
                    {
                        var name = CString(b, (int)(strtab + U32(b, s)));
                        var info = b[s + 4];
                        var defined = U16(b, s + 6) != 0;
                        if (defined && info >> 4 is 1 or 2 && (info & 0xf) == 2)
                        {
                            exports.Add(name); // a global or weak function
                        }
                        else if (!defined && name.Length > 0)
                        {
                            imports[name] = info >> 4 == 2 ? ImportBinding.Weak : ImportBinding.AtLoad;
                        }
                    }
                }
                else if (section.Type == 6)
                {
                    // SHT_DYNAMIC: d_tag, d_val; DT_NEEDED = 1.
                    for (var d = section.Offset; d < section.Offset + section.Size; d += 16)
                    {
                        if (U64(b, d) == 1)
                        {
                            needed.Add(CString(b, (int)(strtab + U64(b, d + 8))));
                        }
                    }
                }
            }

            return new NativeBinary("ELF", machine, exports, imports, needed, new Dictionary<string, IReadOnlyList<string>>());
        }
    }

    /// <summary>Thin 64-bit Mach-O: LC_SYMTAB, LC_LOAD_DYLIB and the dyld bind opcode streams.</summary>
    private static class MachO
    {
        private const uint LcSymtab = 0x2;
        private const uint LcLoadDylib = 0xc;
        private const uint LcLoadWeakDylib = 0x80000018;
        private const uint LcDyldInfoOnly = 0x80000022;
        private const uint LcDyldChainedFixups = 0x80000034;

        public static NativeBinary Read(byte[] b)
        {
            var cpu = U32(b, 4) switch { 0x01000007 => "x64", 0x0100000c => "arm64", var c => $"cpu 0x{c:x}" };
            var exports = new HashSet<string>(StringComparer.Ordinal);
            var undefined = new Dictionary<string, int>(StringComparer.Ordinal);
            var libraries = new List<string>();
            HashSet<string> bound = [], lazy = [], weak = [];
            var chainedFixups = false;
            var offset = 32L;
            for (var i = 0; i < U32(b, 16); i++)
            {
                var cmd = U32(b, offset);
                switch (cmd)
                {
                    case LcSymtab:
                        var (symoff, nsyms, stroff) = (U32(b, offset + 8), U32(b, offset + 12), U32(b, offset + 16));
                        for (var s = 0; s < nsyms; s++)
                        {
                            // nlist_64: n_strx u32, n_type u8, n_sect u8, n_desc u16, n_value u64.
                            var entry = symoff + s * 16L;
                            var type = b[entry + 4];
                            var name = CString(b, (int)(stroff + U32(b, entry))).TrimStart('_');
                            if ((type & 0xe0) != 0 || (type & 0x01) == 0)
                            {
                                continue; // debug entries and non-external symbols
                            }

                            if ((type & 0x0e) == 0x0e)
                            {
                                exports.Add(name);
                            }
                            else if ((type & 0x0e) == 0)
                            {
                                undefined[name] = U16(b, entry + 6) >> 8; // the library ordinal; 0xfe = dynamic lookup
                            }
                        }

                        break;
                    case LcLoadDylib or LcLoadWeakDylib:
                        libraries.Add(CString(b, (int)(offset + U32(b, offset + 8))));
                        break;
                    case LcDyldInfoOnly:
                        bound = BoundSymbols(b, U32(b, offset + 16), U32(b, offset + 20));
                        weak = BoundSymbols(b, U32(b, offset + 24), U32(b, offset + 28));
                        lazy = BoundSymbols(b, U32(b, offset + 32), U32(b, offset + 36));
                        break;
                    case LcDyldChainedFixups:
                        chainedFixups = true;
                        break;
                }

                offset += U32(b, offset + 4);
            }

            // With chained fixups every import is bound at load; without, lazy binds wait for the first call.
            var imports = undefined.ToDictionary(
                u => u.Key,
                u => !chainedFixups && u.Value == 0xfe && lazy.Contains(u.Key) && !bound.Contains(u.Key) && !weak.Contains(u.Key) ? ImportBinding.LazyFlatLookup : ImportBinding.AtLoad,
                StringComparer.Ordinal);
            return new NativeBinary("Mach-O", cpu, exports, imports, libraries, new Dictionary<string, IReadOnlyList<string>>());
        }

        // The names a dyld bind opcode stream binds (mach-o/loader.h, BIND_OPCODE_*).
        private static HashSet<string> BoundSymbols(byte[] b, uint offset, uint size)
        {
            var names = new HashSet<string>(StringComparer.Ordinal);
            var end = offset + size;
            for (var p = (long)offset; p < end;)
            {
                var opcode = b[p] & 0xf0;
                var immediate = b[p] & 0x0f;
                p++;
                switch (opcode)
                {
                    case 0x40: // SET_SYMBOL_TRAILING_FLAGS_IMM + C string
                        var name = CString(b, (int)p);
                        names.Add(name.TrimStart('_'));
                        p += Encoding.Latin1.GetByteCount(name) + 1;
                        break;
                    case 0x20 or 0x60 or 0x70 or 0x80 or 0xa0: // one (S)LEB128 operand
                        p = SkipLeb(b, p);
                        break;
                    case 0xc0: // DO_BIND_ULEB_TIMES_SKIPPING_ULEB: two operands
                        p = SkipLeb(b, SkipLeb(b, p));
                        break;
                    case 0xd0 when immediate == 0: // THREADED + SET_BIND_ORDINAL_TABLE_SIZE_ULEB
                        p = SkipLeb(b, p);
                        break;
                    default: // DONE, SET_DYLIB_ORDINAL_IMM, SET_DYLIB_SPECIAL_IMM, SET_TYPE_IMM, DO_BIND, DO_BIND_ADD_ADDR_IMM_SCALED
                        break;
                }
            }

            return names;
        }

        private static long SkipLeb(byte[] b, long p)
        {
            while ((b[p] & 0x80) != 0)
            {
                p++;
            }

            return p + 1;
        }
    }

    /// <summary>PE32+: export, import and delay-import directories.</summary>
    private static class Pe
    {
        public static NativeBinary Read(byte[] b)
        {
            var pe = U32(b, 0x3c);
            var machine = U16(b, pe + 4) switch { 0x8664 => "x64", 0xaa64 => "arm64", var m => $"machine 0x{m:x}" };
            var optional = pe + 24;
            if (U16(b, optional) != 0x20b)
            {
                throw new InvalidDataException("Only PE32+ is expected.");
            }

            var sectionTable = optional + U16(b, pe + 20);
            var sections = Enumerable.Range(0, U16(b, pe + 6)).Select(i => sectionTable + i * 40L)
                .Select(o => (Rva: U32(b, o + 12), Size: Math.Max(U32(b, o + 8), U32(b, o + 16)), Raw: U32(b, o + 20)))
                .ToArray();
            long File(long rva)
            {
                var s = sections.First(s => rva >= s.Rva && rva < s.Rva + s.Size);
                return rva - s.Rva + s.Raw;
            }

            uint Directory(int index) => U32(b, optional + 112 + index * 8);

            var exports = new HashSet<string>(StringComparer.Ordinal);
            if (Directory(0) is var exportRva and not 0)
            {
                var export = File(exportRva);
                var names = File(U32(b, export + 32));
                for (var i = 0; i < U32(b, export + 24); i++)
                {
                    exports.Add(CString(b, (int)File(U32(b, names + i * 4))));
                }
            }

            var byLibrary = new Dictionary<string, IReadOnlyList<string>>(StringComparer.OrdinalIgnoreCase);

            // Import descriptors are 20 bytes (name at 12, lookup table at 0); delay-load ones 32 (name at 4, lookup table at 16).
            void ReadImports(uint directoryRva, int entrySize, int nameAt, int tableAt)
            {
                if (directoryRva == 0)
                {
                    return;
                }

                for (var d = File(directoryRva); U32(b, d + nameAt) != 0; d += entrySize)
                {
                    var functions = new List<string>();
                    for (var t = File(U32(b, d + tableAt)); BinaryPrimitives.ReadUInt64LittleEndian(b.AsSpan((int)t)) is var thunk and not 0; t += 8)
                    {
                        // The top bit marks an import by ordinal; otherwise the low 31 bits point at a hint and a name.
                        functions.Add((thunk & (1UL << 63)) != 0 ? $"#{thunk & 0xffff}" : CString(b, (int)File((long)(thunk & 0x7fffffff)) + 2));
                    }

                    byLibrary[CString(b, (int)File(U32(b, d + nameAt)))] = functions;
                }
            }

            ReadImports(Directory(1), 20, 12, 0);
            ReadImports(Directory(13), 32, 4, 16);
            var imports = byLibrary.Values.SelectMany(f => f).Distinct(StringComparer.Ordinal).ToDictionary(n => n, _ => ImportBinding.AtLoad, StringComparer.Ordinal);
            return new NativeBinary("PE", machine, exports, imports, [.. byLibrary.Keys], byLibrary);
        }
    }
}
