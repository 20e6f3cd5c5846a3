// read_window.mjs - an independent COG reader for the tests: geotiff.js
// reads a window of one image (0 = full resolution, 1.. = overviews) and
// prints its size, layout and samples as JSON (band-sequential).
//
//   node read_window.mjs FILE IMAGE X0 Y0 X1 Y1
//
// geotiff.js 2.1 has no ZSTD decoder of its own: one is registered here
// from zstddec (the Zstandard decoder geotiff.js already ships for LERC).
import { fromFile, addDecoder, BaseDecoder } from 'geotiff';
import { ZSTDDecoder } from 'zstddec';

const zstd = new ZSTDDecoder();

class ZstdDecoder extends BaseDecoder {
  decodeBlock(buffer) {
    const src = new Uint8Array(buffer);
    return zstd.decode(src, this.blockSize).buffer;
  }
}

addDecoder(50000, async () => {
  await zstd.init();
  return class extends ZstdDecoder {
    constructor(fileDirectory) {
      super();
      const bps = fileDirectory.BitsPerSample[0] / 8;
      const spp = fileDirectory.PlanarConfiguration === 2 ? 1 : fileDirectory.SamplesPerPixel;
      this.blockSize = fileDirectory.TileWidth * fileDirectory.TileLength * bps * spp;
    }
  };
});

const [file, image, x0, y0, x1, y1] = process.argv.slice(2);
const tiff = await fromFile(file);
const img = await tiff.getImage(Number(image));
const window = [x0, y0, x1, y1].map(Number);
const rasters = await img.readRasters({ window, interleave: false });
const out = {
  width: img.getWidth(),
  height: img.getHeight(),
  tileWidth: img.getTileWidth(),
  bands: Array.from(rasters, (r) => Array.from(r, (v) => (Number.isNaN(v) ? null : v))),
};
process.stdout.write(JSON.stringify(out));
