// The fine-tuning worker: runs the training loop off the page's thread (src/tuning/worker/).
import { boot } from "./wasm-worker.js";
boot();
