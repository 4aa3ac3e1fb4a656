//! The headers of a ZIP archive whose members are stored as they are (method 0: videos do not
//! compress), with ZIP64 records where a size or an offset passes 4 GiB. Only the headers are made
//! here: the page puts them between the finished videos' own files (a `Blob` of headers and
//! `File`s), so the archive is never built in memory and the browser writes it from disk.
//! ZIP crates write the members' bytes through themselves, which is what this avoids.
//!
//! Layout (APPNOTE 6.3.10): for each member a local header, then its bytes; then the central
//! directory (one header per member), then, if needed, the ZIP64 end record and its locator, then
//! the end of central directory record.

/// One member: its name in the archive, its size and the CRC-32 of its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub name: String,
    pub size: u64,
    pub crc32: u32,
}

const LOCAL: u32 = 0x0403_4b50;
const CENTRAL: u32 = 0x0201_4b50;
const ZIP64_END: u32 = 0x0606_4b50;
const ZIP64_LOCATOR: u32 = 0x0706_4b50;
const END: u32 = 0x0605_4b50;
/// Bit 11: the name is UTF-8.
const UTF8: u16 = 1 << 11;
/// 4.5 (ZIP64) where needed, else 2.0.
const fn version(zip64: bool) -> u16 {
    if zip64 {
        45
    } else {
        20
    }
}
/// A 32-bit field too small for its value: the value is in the ZIP64 extra field.
const MAX32: u64 = 0xFFFF_FFFF;

/// Little-endian writer.
#[derive(Default)]
struct Out(Vec<u8>);

impl Out {
    fn u16(&mut self, v: u16) -> &mut Self {
        self.0.extend_from_slice(&v.to_le_bytes());
        self
    }
    fn u32(&mut self, v: u32) -> &mut Self {
        self.0.extend_from_slice(&v.to_le_bytes());
        self
    }
    fn u64(&mut self, v: u64) -> &mut Self {
        self.0.extend_from_slice(&v.to_le_bytes());
        self
    }
    fn bytes(&mut self, v: &[u8]) -> &mut Self {
        self.0.extend_from_slice(v);
        self
    }
}

fn clamp32(v: u64) -> u32 {
    v.min(MAX32) as u32
}

/// The archive's headers, in order: `locals[i]` goes before member `i`'s bytes, `end` after the
/// last member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Headers {
    pub locals: Vec<Vec<u8>>,
    pub end: Vec<u8>,
}

impl Headers {
    /// The archive's total size.
    pub fn archive_size(&self, members: &[Member]) -> u64 {
        self.locals.iter().map(|l| l.len() as u64).sum::<u64>()
            + members.iter().map(|m| m.size).sum::<u64>()
            + self.end.len() as u64
    }
}

/// The headers of an archive of `members` (stored, dated 1980-01-01: the videos' own dates are in
/// their files).
pub fn headers(members: &[Member]) -> Headers {
    let mut locals = Vec::new();
    let mut offsets = Vec::new();
    let mut at = 0u64;
    for m in members {
        let name = m.name.as_bytes();
        let zip64 = m.size >= MAX32;
        let mut h = Out::default();
        h.u32(LOCAL).u16(version(zip64)).u16(UTF8).u16(0).u16(0).u16(0x21); // method, time, date
        h.u32(m.crc32).u32(clamp32(m.size)).u32(clamp32(m.size));
        h.u16(name.len() as u16).u16(if zip64 { 20 } else { 0 }).bytes(name);
        if zip64 {
            h.u16(1).u16(16).u64(m.size).u64(m.size);
        }
        offsets.push(at);
        at += h.0.len() as u64 + m.size;
        locals.push(h.0);
    }
    let directory_at = at;
    let mut d = Out::default();
    for (m, &offset) in members.iter().zip(&offsets) {
        let name = m.name.as_bytes();
        // The ZIP64 extra field holds, in this order, the sizes and the offset that do not fit.
        let mut extra = Out::default();
        if m.size >= MAX32 {
            extra.u64(m.size).u64(m.size);
        }
        if offset >= MAX32 {
            extra.u64(offset);
        }
        let zip64 = !extra.0.is_empty();
        d.u32(CENTRAL).u16(version(zip64)).u16(version(zip64)).u16(UTF8).u16(0).u16(0).u16(0x21);
        d.u32(m.crc32).u32(clamp32(m.size)).u32(clamp32(m.size));
        let extra_len = if zip64 { 4 + extra.0.len() } else { 0 };
        d.u16(name.len() as u16).u16(extra_len as u16).u16(0).u16(0).u16(0).u32(0).u32(clamp32(offset));
        d.bytes(name);
        if zip64 {
            d.u16(1).u16(extra.0.len() as u16).bytes(&extra.0);
        }
    }
    let directory_size = d.0.len() as u64;
    let count = members.len() as u64;
    let zip64 =
        count >= 0xFFFF || directory_at >= MAX32 || directory_size >= MAX32 || members.iter().any(|m| m.size >= MAX32);
    let mut end = d;
    if zip64 {
        let zip64_end_at = directory_at + directory_size;
        end.u32(ZIP64_END).u64(44).u16(45).u16(45).u32(0).u32(0).u64(count).u64(count);
        end.u64(directory_size).u64(directory_at);
        end.u32(ZIP64_LOCATOR).u32(0).u64(zip64_end_at).u32(1);
    }
    let count16 = count.min(0xFFFF) as u16;
    end.u32(END).u16(0).u16(0).u16(count16).u16(count16).u32(clamp32(directory_size)).u32(clamp32(directory_at));
    end.u16(0);
    Headers { locals, end: end.0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Writes an archive of small members and has Python's zipfile check it.
    fn check_with_python(members: &[(&str, &[u8])]) {
        let list: Vec<Member> = members
            .iter()
            .map(|(n, b)| Member { name: n.to_string(), size: b.len() as u64, crc32: crc32(b) })
            .collect();
        let h = headers(&list);
        let mut bytes = Vec::new();
        for (local, (_, body)) in h.locals.iter().zip(members) {
            bytes.extend_from_slice(local);
            bytes.extend_from_slice(body);
        }
        bytes.extend_from_slice(&h.end);
        assert_eq!(bytes.len() as u64, h.archive_size(&list));
        let path = std::env::temp_dir().join(format!("reframe-zip-{}-{}.zip", std::process::id(), members.len()));
        std::fs::write(&path, &bytes).unwrap();
        let script = "import sys, zipfile\nz = zipfile.ZipFile(sys.argv[1])\nassert z.testzip() is None\nfor i in z.infolist(): print(i.filename, i.file_size, i.compress_type, z.read(i).hex())";
        let out = std::process::Command::new("python3").arg("-c").arg(script).arg(&path).output();
        let _ = std::fs::remove_file(&path);
        let Ok(out) = out else { return }; // no Python on this machine: the layout test below still runs
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let expected: String = members
            .iter()
            .map(|(n, b)| format!("{n} {} 0 {}\n", b.len(), b.iter().map(|x| format!("{x:02x}")).collect::<String>()))
            .collect();
        assert_eq!(String::from_utf8_lossy(&out.stdout), expected);
    }

    /// CRC-32 (IEEE), bit by bit: the test's own reference.
    fn crc32(bytes: &[u8]) -> u32 {
        let mut crc = !0u32;
        for &b in bytes {
            crc ^= b as u32;
            for _ in 0..8 {
                crc = if crc & 1 != 0 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
            }
        }
        !crc
    }

    #[test]
    fn a_stored_archive_that_python_reads_back() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        check_with_python(&[("a.mp4", b"first video"), ("b – 9x16.mp4", b""), ("c.mp4", &[0u8, 1, 2, 255])]);
        check_with_python(&[]);
    }

    #[test]
    fn past_four_gib_the_sizes_and_offsets_move_to_zip64_records() {
        let big = Member { name: "big.mp4".into(), size: 5 << 30, crc32: 7 };
        let small = Member { name: "small.mp4".into(), size: 10, crc32: 8 };
        let h = headers(&[big.clone(), small.clone()]);
        // The big member's local header: 0xFFFFFFFF sizes, a ZIP64 extra field with the real ones.
        let l = &h.locals[0];
        assert_eq!(&l[18..26], &[0xFF; 8]);
        assert_eq!(u16::from_le_bytes([l[28], l[29]]), 20);
        assert_eq!(u64::from_le_bytes(l[30 + 7 + 4..30 + 7 + 12].try_into().unwrap()), 5 << 30);
        // The small one's offset is past 4 GiB: its central header says so in a ZIP64 field.
        let small_at = h.locals[0].len() as u64 + big.size;
        let end = &h.end;
        let second = end.windows(4).rposition(|w| w == CENTRAL.to_le_bytes()).unwrap();
        assert_eq!(&end[second + 42..second + 46], &[0xFF; 4]);
        let extra_at = second + 46 + "small.mp4".len();
        assert_eq!(u64::from_le_bytes(end[extra_at + 4..extra_at + 12].try_into().unwrap()), small_at);
        // ZIP64 end record and locator before the classic end record.
        let z64 = end.windows(4).position(|w| w == ZIP64_END.to_le_bytes()).unwrap();
        let directory_at = small_at + h.locals[1].len() as u64 + small.size;
        assert_eq!(u64::from_le_bytes(end[z64 + 48..z64 + 56].try_into().unwrap()), directory_at);
        assert!(end.windows(4).any(|w| w == ZIP64_LOCATOR.to_le_bytes()));
        assert_eq!(&end[end.len() - 22..end.len() - 18], &END.to_le_bytes());
        assert_eq!(h.archive_size(&[big, small]), directory_at + end.len() as u64);
    }
}
