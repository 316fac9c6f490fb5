import { PDFParse } from 'pdf-parse';

/** The text of a PDF, as a reader would find it (pdf-parse, on pdf.js). */
export async function pdfText(bytes: Uint8Array): Promise<string> {
  // pdf.js takes ownership of the array it is given: a copy leaves the caller's bytes intact.
  const parser = new PDFParse({ data: new Uint8Array(bytes) });
  try {
    return (await parser.getText()).text;
  } finally {
    await parser.destroy();
  }
}
