// The userland punycode package (the node:punycode built-in is deprecated); it ships no types.
declare module "punycode/punycode.js" {
  const punycode: {
    encode(input: string): string;
    decode(input: string): string;
    toASCII(domain: string): string;
    toUnicode(domain: string): string;
  };
  export default punycode;
}
