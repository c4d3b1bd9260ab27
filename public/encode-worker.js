// One of the two encode workers: runs half of the model's encode, and decodes samples, off the
// page's thread (src/encode_workers/).
import { boot } from "./wasm-worker.js";
boot();
