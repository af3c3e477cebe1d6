"""Writes minimal_completions.json: for every problem whose canonical completion uses an optional
package/header/import, a correct completion that uses none (the fidelity test runs them all).

Python: the canonical minus its `import` lines (the harness's import block provides those modules).
C++: the canonical minus its `#include` lines. JavaScript: a `require`-free md5. Go: every
`pkg.Name` replaced by a package-free `hx_pkg_Name` appended to the completion (shims below), and
a few hand-written completions (fmt verbs, regexp, md5). Java completions cannot import: none needed.
Run: HUMANEVAL_X_DATA=... python tests/data/make_minimal_completions.py
"""
import json
import math
import re
from pathlib import Path

from humaneval_x.assembly import GO_STD_PACKAGES, go_used_packages
from humaneval_x.clike import strip_comments_and_strings
from humaneval_x.dataset import load_problems

OUT = Path(__file__).with_name("minimal_completions.json")

MD5_S = [7, 12, 17, 22] * 4 + [5, 9, 14, 20] * 4 + [4, 11, 16, 23] * 4 + [6, 10, 15, 21] * 4
MD5_K = [int(abs(math.sin(i + 1)) * 2 ** 32) & 0xFFFFFFFF for i in range(64)]
K_GO = ", ".join(f"0x{k:08x}" for k in MD5_K)
S_GO = ", ".join(map(str, MD5_S))

GO_SHIMS = {
    "math.Abs": "func hx_math_Abs(x float64) float64 {\n    if x < 0 {\n        return -x\n    }\n    return x\n}\n",
    "math.Floor": "func hx_math_Floor(x float64) float64 {\n    i := float64(int64(x))\n    if i > x {\n        i--\n    }\n    return i\n}\n",
    "math.Ceil": "func hx_math_Ceil(x float64) float64 {\n    i := float64(int64(x))\n    if i < x {\n        i++\n    }\n    return i\n}\n",
    "math.Round": "func hx_math_Round(x float64) float64 {\n    if x < 0 {\n        return -hx_math_Floor(-x + 0.5)\n    }\n    return hx_math_Floor(x + 0.5)\n}\n",
    "math.Max": "func hx_math_Max(a, b float64) float64 {\n    if a > b {\n        return a\n    }\n    return b\n}\n",
    "math.Min": "func hx_math_Min(a, b float64) float64 {\n    if a < b {\n        return a\n    }\n    return b\n}\n",
    "math.Mod": "func hx_math_Mod(x, y float64) float64 {\n    return x - y*float64(int64(x/y))\n}\n",
    "math.Sqrt": ("func hx_math_Sqrt(x float64) float64 {\n    if x <= 0 {\n        return 0\n    }\n    z := x\n"
                  "    if z < 1 {\n        z = 1\n    }\n    for i := 0; i < 2000; i++ {\n        n := (z + x/z) / 2\n"
                  "        if n >= z {\n            break\n        }\n        z = n\n    }\n    return z\n}\n"),
    "math.Pow": ("func hx_math_Pow(x, y float64) float64 {\n    if y == 0.5 {\n        return hx_math_Sqrt(x)\n    }\n"
                 "    n := int(y)\n    if float64(n) != y {\n        panic(\"hx_math_Pow: fractional exponent\")\n    }\n"
                 "    neg := n < 0\n    if neg {\n        n = -n\n    }\n    r := 1.0\n    for ; n > 0; n-- {\n        r *= x\n    }\n"
                 "    if neg {\n        return 1 / r\n    }\n    return r\n}\n"),
    "math.MaxFloat64": "const hx_math_MaxFloat64 = 1.79769313486231570814527423731704356798070e+308\n",
    "math.MaxInt": "const hx_math_MaxInt = 1<<63 - 1\n",
    "math.MaxInt64": "const hx_math_MaxInt64 = 1<<63 - 1\n",
    "math.MinInt": "const hx_math_MinInt = -1 << 63\n",
    "math.MinInt64": "const hx_math_MinInt64 = -1 << 63\n",
    "math.MinInt32": "const hx_math_MinInt32 = -1 << 31\n",
    "sort.Ints": ("func hx_sort_Ints(a []int) {\n    for i := 1; i < len(a); i++ {\n"
                  "        for j := i; j > 0 && a[j] < a[j-1]; j-- {\n            a[j], a[j-1] = a[j-1], a[j]\n        }\n    }\n}\n"),
    "sort.Float64s": ("func hx_sort_Float64s(a []float64) {\n    for i := 1; i < len(a); i++ {\n"
                      "        for j := i; j > 0 && a[j] < a[j-1]; j-- {\n            a[j], a[j-1] = a[j-1], a[j]\n        }\n    }\n}\n"),
    # insertion sort is stable: serves sort.Slice and sort.SliceStable
    "sort.Slice": ("func hx_sort_Slice[T any](a []T, less func(i, j int) bool) {\n    for i := 1; i < len(a); i++ {\n"
                   "        for j := i; j > 0 && less(j, j-1); j-- {\n            a[j], a[j-1] = a[j-1], a[j]\n        }\n    }\n}\n"),
    "hxNumError": "type hxNumError struct{ s string }\n\nfunc (e hxNumError) Error() string {\n    return \"invalid syntax: \" + e.s\n}\n",
    "strconv.Itoa": ("func hx_strconv_Itoa(n int) string {\n    if n == 0 {\n        return \"0\"\n    }\n    u := uint64(n)\n"
                     "    if n < 0 {\n        u = uint64(-n)\n    }\n    b := []byte{}\n    for u > 0 {\n"
                     "        b = append([]byte{byte('0' + u%10)}, b...)\n        u /= 10\n    }\n"
                     "    if n < 0 {\n        b = append([]byte{'-'}, b...)\n    }\n    return string(b)\n}\n"),
    "strconv.Atoi": ("func hx_strconv_Atoi(s string) (int, error) {\n    i, neg := 0, false\n"
                     "    if len(s) > 0 && (s[0] == '-' || s[0] == '+') {\n        neg = s[0] == '-'\n        i = 1\n    }\n"
                     "    if i == len(s) {\n        return 0, hxNumError{s}\n    }\n    n := 0\n    for ; i < len(s); i++ {\n"
                     "        if s[i] < '0' || s[i] > '9' {\n            return 0, hxNumError{s}\n        }\n"
                     "        n = n*10 + int(s[i]-'0')\n    }\n    if neg {\n        n = -n\n    }\n    return n, nil\n}\n"),
    "strconv.ParseFloat": ("func hx_strconv_ParseFloat(s string, bits int) (float64, error) {\n    i, neg := 0, false\n"
                           "    if len(s) > 0 && (s[0] == '-' || s[0] == '+') {\n        neg = s[0] == '-'\n        i = 1\n    }\n"
                           "    mant, scale, digits, dot := 0.0, 1.0, 0, false\n    for ; i < len(s); i++ {\n"
                           "        c := s[i]\n        if c == '.' && !dot {\n            dot = true\n            continue\n        }\n"
                           "        if c < '0' || c > '9' {\n            return 0, hxNumError{s}\n        }\n"
                           "        mant = mant*10 + float64(c-'0')\n        digits++\n        if dot {\n            scale *= 10\n        }\n    }\n"
                           "    if digits == 0 {\n        return 0, hxNumError{s}\n    }\n    r := mant / scale\n"
                           "    if neg {\n        r = -r\n    }\n    return r, nil\n}\n"),
    "strings.Index": ("func hx_strings_Index(s, sub string) int {\n    for i := 0; i+len(sub) <= len(s); i++ {\n"
                      "        if s[i:i+len(sub)] == sub {\n            return i\n        }\n    }\n    return -1\n}\n"),
    "strings.Contains": "func hx_strings_Contains(s, sub string) bool {\n    return hx_strings_Index(s, sub) >= 0\n}\n",
    "strings.IndexRune": ("func hx_strings_IndexRune(s string, r rune) int {\n    for i, c := range s {\n"
                          "        if c == r {\n            return i\n        }\n    }\n    return -1\n}\n"),
    "strings.ContainsRune": "func hx_strings_ContainsRune(s string, r rune) bool {\n    return hx_strings_IndexRune(s, r) >= 0\n}\n",
    "strings.Count": ("func hx_strings_Count(s, sub string) int {\n    if sub == \"\" {\n        return len([]rune(s)) + 1\n    }\n"
                      "    n := 0\n    for i := 0; i+len(sub) <= len(s); {\n        if s[i:i+len(sub)] == sub {\n"
                      "            n++\n            i += len(sub)\n        } else {\n            i++\n        }\n    }\n    return n\n}\n"),
    "hxIsSpace": ("func hxIsSpace(c rune) bool {\n    return c == ' ' || c == '\\t' || c == '\\n' || c == '\\v' || c == '\\f' || c == '\\r'"
                  " || c == 0x85 || c == 0xA0\n}\n"),
    "strings.Fields": ("func hx_strings_Fields(s string) []string {\n    out := []string{}\n    cur := []rune{}\n"
                       "    for _, c := range s {\n        if hxIsSpace(c) {\n            if len(cur) > 0 {\n"
                       "                out = append(out, string(cur))\n                cur = []rune{}\n            }\n"
                       "        } else {\n            cur = append(cur, c)\n        }\n    }\n"
                       "    if len(cur) > 0 {\n        out = append(out, string(cur))\n    }\n    return out\n}\n"),
    "strings.TrimSpace": ("func hx_strings_TrimSpace(s string) string {\n    r := []rune(s)\n    i, j := 0, len(r)\n"
                          "    for i < j && hxIsSpace(r[i]) {\n        i++\n    }\n    for j > i && hxIsSpace(r[j-1]) {\n        j--\n    }\n"
                          "    return string(r[i:j])\n}\n"),
    "strings.Join": ("func hx_strings_Join(a []string, sep string) string {\n    out := \"\"\n    for i, s := range a {\n"
                     "        if i > 0 {\n            out += sep\n        }\n        out += s\n    }\n    return out\n}\n"),
    "strings.SplitN": ("func hx_strings_SplitN(s, sep string, n int) []string {\n    if n == 0 {\n        return nil\n    }\n"
                       "    out := []string{}\n    if sep == \"\" {\n        for _, c := range s {\n"
                       "            out = append(out, string(c))\n        }\n        return out\n    }\n"
                       "    for n < 0 || len(out) < n-1 {\n        i := hx_strings_Index(s, sep)\n        if i < 0 {\n            break\n        }\n"
                       "        out = append(out, s[:i])\n        s = s[i+len(sep):]\n    }\n    return append(out, s)\n}\n"),
    "strings.Split": "func hx_strings_Split(s, sep string) []string {\n    return hx_strings_SplitN(s, sep, -1)\n}\n",
    "strings.Replace": ("func hx_strings_Replace(s, old, new string, n int) string {\n    if old == \"\" {\n        return s\n    }\n"
                        "    out := \"\"\n    for n != 0 {\n        i := hx_strings_Index(s, old)\n        if i < 0 {\n            break\n        }\n"
                        "        out += s[:i] + new\n        s = s[i+len(old):]\n        n--\n    }\n    return out + s\n}\n"),
    "strings.ReplaceAll": "func hx_strings_ReplaceAll(s, old, new string) string {\n    return hx_strings_Replace(s, old, new, -1)\n}\n",
    "strings.ToLower": ("func hx_strings_ToLower(s string) string {\n    r := []rune(s)\n    for i, c := range r {\n"
                        "        if c >= 'A' && c <= 'Z' {\n            r[i] = c + 32\n        }\n    }\n    return string(r)\n}\n"),
    "strings.ToUpper": ("func hx_strings_ToUpper(s string) string {\n    r := []rune(s)\n    for i, c := range r {\n"
                        "        if c >= 'a' && c <= 'z' {\n            r[i] = c - 32\n        }\n    }\n    return string(r)\n}\n"),
    "bytes.Contains": ("func hx_bytes_Contains(b, sub []byte) bool {\n    return hx_strings_Index(string(b), string(sub)) >= 0\n}\n"),
    "hx_bin": ("func hx_bin[T int | int32 | int64](x T) string {\n    if x == 0 {\n        return \"0\"\n    }\n"
               "    if x < 0 {\n        return \"-\" + hx_bin(-x)\n    }\n    out := \"\"\n"
               "    for x > 0 {\n        out = string(rune('0'+x%2)) + out\n        x /= 2\n    }\n    return out\n}\n"),
}
GO_ALIAS = {"sort.SliceStable": "sort.Slice"}
GO_DEPS = {"math.Round": ["math.Floor"], "math.Pow": ["math.Sqrt"], "strconv.Atoi": ["hxNumError"],
           "strconv.ParseFloat": ["hxNumError"], "strings.Contains": ["strings.Index"],
           "strings.ContainsRune": ["strings.IndexRune"], "strings.Fields": ["hxIsSpace"],
           "strings.TrimSpace": ["hxIsSpace"], "strings.SplitN": ["strings.Index"],
           "strings.Split": ["strings.SplitN"], "strings.Replace": ["strings.Index"],
           "strings.ReplaceAll": ["strings.Replace"], "bytes.Contains": ["strings.Index"]}
GO_REF = re.compile(r"(?<![\w.])(math|sort|strconv|strings|bytes)\.(\w+)")

GO_HAND = {
    "Go/51": ("    out := []rune{}\n    for _, c := range text {\n        switch c {\n"
              "        case 'a', 'e', 'i', 'o', 'u', 'A', 'E', 'I', 'O', 'U':\n        default:\n"
              "            out = append(out, c)\n        }\n    }\n    return string(out)\n}\n"),
    "Go/91": ("    sentences := []string{}\n    cur := \"\"\n    for i := 0; i < len(S); i++ {\n        c := S[i]\n"
              "        if c == '.' || c == '?' || c == '!' {\n            sentences = append(sentences, cur)\n            cur = \"\"\n"
              "            for i+1 < len(S) && (S[i+1] == ' ' || S[i+1] == '\\t' || S[i+1] == '\\n') {\n                i++\n            }\n"
              "            continue\n        }\n        cur += string(c)\n    }\n    sentences = append(sentences, cur)\n"
              "    sum := 0\n    for _, s := range sentences {\n        if len(s) >= 2 && s[:2] == \"I \" {\n            sum++\n        }\n    }\n"
              "    return sum\n}\n"),
    "Go/113": ("    res := make([]string, 0, len(lst))\n    for _, arr := range lst {\n        n := 0\n        for _, d := range arr {\n"
               "            if (d - '0') % 2 == 1 {\n                n++\n            }\n        }\n        k := hx_strconv_Itoa(n)\n"
               "        res = append(res, \"the number of odd elements \"+k+\"n the str\"+k+\"ng \"+k+\" of the \"+k+\"nput.\")\n"
               "    }\n    return res\n}\n\n" + GO_SHIMS["strconv.Itoa"]),
    "Go/137": ("    num := func(x interface{}) float64 {\n        switch v := x.(type) {\n        case int:\n            return float64(v)\n"
               "        case float64:\n            return v\n        case string:\n            f, _ := hx_strconv_ParseFloat(hx_strings_ReplaceAll(v, \",\", \".\"), 64)\n"
               "            return f\n        }\n        return 0\n    }\n    fa, fb := num(a), num(b)\n    if fa == fb {\n        return nil\n    }\n"
               "    if fa > fb {\n        return a\n    }\n    return b\n}\n\n"
               + GO_SHIMS["hxNumError"] + "\n" + GO_SHIMS["strconv.ParseFloat"] + "\n" + GO_SHIMS["strings.Index"] + "\n"
               + GO_SHIMS["strings.Replace"] + "\n" + GO_SHIMS["strings.ReplaceAll"]),
    "Go/77": ("    if a < 0 {\n        a = -a\n    }\n    for i := 0; i*i*i <= a; i++ {\n        if i*i*i == a {\n            return true\n"
              "        }\n    }\n    return false\n}\n"),
    "Go/162": ("    if text == \"\" {\n        return nil\n    }\n    return hxMd5Hex([]byte(text))\n}\n\n"
               "func hxMd5Hex(msg []byte) string {\n"
               f"    s := [64]uint32{{{S_GO}}}\n"
               f"    K := [64]uint32{{{K_GO}}}\n"
               "    a0, b0, c0, d0 := uint32(0x67452301), uint32(0xefcdab89), uint32(0x98badcfe), uint32(0x10325476)\n"
               "    ml := uint64(len(msg)) * 8\n    data := append([]byte{}, msg...)\n    data = append(data, 0x80)\n"
               "    for len(data)%64 != 56 {\n        data = append(data, 0)\n    }\n"
               "    for i := 0; i < 8; i++ {\n        data = append(data, byte(ml>>(8*uint(i))))\n    }\n"
               "    for off := 0; off < len(data); off += 64 {\n        var M [16]uint32\n        for i := 0; i < 16; i++ {\n"
               "            j := off + 4*i\n"
               "            M[i] = uint32(data[j]) | uint32(data[j+1])<<8 | uint32(data[j+2])<<16 | uint32(data[j+3])<<24\n        }\n"
               "        A, B, C, D := a0, b0, c0, d0\n        for i := 0; i < 64; i++ {\n            var F uint32\n            var g int\n"
               "            switch {\n            case i < 16:\n                F, g = (B&C)|(^B&D), i\n"
               "            case i < 32:\n                F, g = (D&B)|(^D&C), (5*i+1)%16\n"
               "            case i < 48:\n                F, g = B^C^D, (3*i+5)%16\n"
               "            default:\n                F, g = C^(B|^D), (7*i)%16\n            }\n"
               "            F = F + A + K[i] + M[g]\n            A, D, C = D, C, B\n            B = B + (F<<s[i] | F>>(32-s[i]))\n        }\n"
               "        a0, b0, c0, d0 = a0+A, b0+B, c0+C, d0+D\n    }\n"
               "    hexd := \"0123456789abcdef\"\n    out := make([]byte, 0, 32)\n    for _, w := range []uint32{a0, b0, c0, d0} {\n"
               "        for i := 0; i < 4; i++ {\n            b := byte(w >> (8 * uint(i)))\n            out = append(out, hexd[b>>4], hexd[b&15])\n"
               "        }\n    }\n    return string(out)\n}\n"),
}

JS_162 = ("  if (text == '') { return null }\n  const bytes = []\n  for (const ch of text) {\n    const c = ch.codePointAt(0)\n"
          "    if (c < 0x80) bytes.push(c)\n    else if (c < 0x800) bytes.push(0xc0 | (c >> 6), 0x80 | (c & 63))\n"
          "    else if (c < 0x10000) bytes.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63))\n"
          "    else bytes.push(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 63), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63))\n  }\n"
          f"  const S = [{S_GO}]\n  const K = [{K_GO}]\n"
          "  const n = bytes.length\n  bytes.push(0x80)\n  while (bytes.length % 64 != 56) bytes.push(0)\n"
          "  let bits = n * 8\n  for (let i = 0; i < 8; i++) { bytes.push(bits % 256); bits = Math.floor(bits / 256) }\n"
          "  let a0 = 0x67452301, b0 = 0xefcdab89, c0 = 0x98badcfe, d0 = 0x10325476\n"
          "  for (let off = 0; off < bytes.length; off += 64) {\n    const M = []\n    for (let i = 0; i < 16; i++) {\n"
          "      const j = off + 4 * i\n      M.push((bytes[j] | (bytes[j + 1] << 8) | (bytes[j + 2] << 16) | (bytes[j + 3] << 24)) >>> 0)\n    }\n"
          "    let A = a0, B = b0, C = c0, D = d0\n    for (let i = 0; i < 64; i++) {\n      let F, g\n"
          "      if (i < 16) { F = (B & C) | (~B & D); g = i }\n      else if (i < 32) { F = (D & B) | (~D & C); g = (5 * i + 1) % 16 }\n"
          "      else if (i < 48) { F = B ^ C ^ D; g = (3 * i + 5) % 16 }\n      else { F = C ^ (B | ~D); g = (7 * i) % 16 }\n"
          "      F = (F + A + K[i] + M[g]) >>> 0\n      A = D; D = C; C = B\n"
          "      B = (B + ((F << S[i]) | (F >>> (32 - S[i])))) >>> 0\n    }\n"
          "    a0 = (a0 + A) >>> 0; b0 = (b0 + B) >>> 0; c0 = (c0 + C) >>> 0; d0 = (d0 + D) >>> 0\n  }\n"
          "  let out = ''\n  for (const w of [a0, b0, c0, d0]) {\n    for (let i = 0; i < 4; i++) {\n"
          "      const b = (w >>> (8 * i)) & 255\n      out += (b < 16 ? '0' : '') + b.toString(16)\n    }\n  }\n  return out\n}\n")


def go_minimal(tid, code):
    if tid in GO_HAND:
        return GO_HAND[tid]
    code = re.sub(r'fmt\.Sprintf\("%b", ', "hx_bin(", code)
    code = re.sub(r'fmt\.Sprintf\("db%bdb", (\w+)\)', r'"db" + hx_bin(\1) + "db"', code)
    code = re.sub(r'fmt\.Sprintf\("0b%b", ', '"0b" + hx_bin(', code)
    need = ["hx_bin"] if "hx_bin(" in code else []
    for pkg, name in GO_REF.findall(strip_comments_and_strings(code)):
        need.append(GO_ALIAS.get(f"{pkg}.{name}", f"{pkg}.{name}"))
    code = GO_REF.sub(lambda m: "hx_" + GO_ALIAS.get(m.group(0), m.group(0)).replace(".", "_"), code)
    order, seen = [], set()

    def add(k):
        if k not in seen:
            seen.add(k)
            for d in GO_DEPS.get(k, []):
                add(d)
            order.append(k)
    for k in need:
        add(k)
    return code.rstrip() + "\n\n" + "\n".join(GO_SHIMS[k] for k in order)


# Rust: the crates come with the prompt's `use` lines whatever the completion does; two canonical
# completions use one (regex, md5): rewrites that use none.
RUST = {
 "Rust/91": "\n    let mut count = 0;\n    for (i, part) in s.split(|c: char| c == '.' || c == '?' || c == '!').enumerate() {\n        // the canonical splits on `[.?!]\\s*`: the whitespace after a mark goes with it, not the text's first\n        let part = if i == 0 { part } else { part.trim_start() };\n        if part.starts_with(\"I \") {\n            count += 1;\n        }\n    }\n    return count;\n}\n",
 "Rust/162": "\n    if text.is_empty() {\n        return \"None\".to_string();\n    }\n    let s: [u32; 64] = [7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21];\n    let k: [u32; 64] = [0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501, 0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821, 0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8, 0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a, 0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70, 0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665, 0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1, 0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391];\n    let mut msg: Vec<u8> = text.as_bytes().to_vec();\n    let bit_len: u64 = (msg.len() as u64).wrapping_mul(8);\n    msg.push(0x80);\n    while msg.len() % 64 != 56 {\n        msg.push(0);\n    }\n    msg.extend_from_slice(&bit_len.to_le_bytes());\n    let (mut a0, mut b0, mut c0, mut d0): (u32, u32, u32, u32) = (0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476);\n    for chunk in msg.chunks(64) {\n        let mut m = [0u32; 16];\n        for i in 0..16 {\n            m[i] = u32::from_le_bytes([chunk[4 * i], chunk[4 * i + 1], chunk[4 * i + 2], chunk[4 * i + 3]]);\n        }\n        let (mut a, mut b, mut c, mut d) = (a0, b0, c0, d0);\n        for i in 0..64 {\n            let (f, g) = if i < 16 {\n                ((b & c) | (!b & d), i)\n            } else if i < 32 {\n                ((d & b) | (!d & c), (5 * i + 1) % 16)\n            } else if i < 48 {\n                (b ^ c ^ d, (3 * i + 5) % 16)\n            } else {\n                (c ^ (b | !d), (7 * i) % 16)\n            };\n            let f2 = f.wrapping_add(a).wrapping_add(k[i]).wrapping_add(m[g]);\n            a = d;\n            d = c;\n            c = b;\n            b = b.wrapping_add(f2.rotate_left(s[i]));\n        }\n        a0 = a0.wrapping_add(a);\n        b0 = b0.wrapping_add(b);\n        c0 = c0.wrapping_add(c);\n        d0 = d0.wrapping_add(d);\n    }\n    let mut out = String::new();\n    for v in [a0, b0, c0, d0] {\n        for byte in v.to_le_bytes() {\n            out.push_str(&format!(\"{:02x}\", byte));\n        }\n    }\n    out\n}\n"
}


def main():
    problems = load_problems(("python", "cpp", "java", "js", "go", "rust"))
    out = {}
    for tid, p in problems.items():
        c = p.canonical_solution
        if p.language == "python" and re.search(r"^\s*(import|from)\s", c, re.M):
            c = re.sub(r"^\s*(import|from)\s.*\n", "", c, flags=re.M)
            c = re.sub(r"(?<![\w.])(floor|ceil)\(", r"math.\1(", c)
            out[tid] = c
        elif p.language == "cpp" and "#include" in c:
            out[tid] = re.sub(r"^\s*#\s*(include|undef).*\n?", "", c, flags=re.M)
        elif p.language == "js" and "require(" in c:
            assert tid == "JavaScript/162", tid
            out[tid] = JS_162
        elif p.language == "go" and go_used_packages(c, GO_STD_PACKAGES):
            out[tid] = go_minimal(tid, c)
        elif p.language == "rust" and re.search(r"\b(?:Regex|md5|rand|Rng)\b", c):
            out[tid] = RUST[tid]
    OUT.write_text(json.dumps(out, indent=1, sort_keys=True) + "\n")
    print(f"{len(out)} completions -> {OUT}")


if __name__ == "__main__":
    main()
