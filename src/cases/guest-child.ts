/**
 * Child-process entry of guest_memfd_guest (started by guest.ts through
 * runner/isolate.ts): runs one GuestJob, its vCPU included, and sends back the result.
 * Kept small: no CLI, no runner, no reporters.
 */
import { serveJob } from '../isolate/serve-job.js';
import { guestMemfdGuestJob } from './guest.js';

serveJob(guestMemfdGuestJob);
