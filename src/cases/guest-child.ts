/**
 * Child-process entry of guest_memfd_guest (isolate/entries.ts names it 'vcpu'): runs
 * one GuestJob, its vCPU included, and sends back the result. Kept small: no CLI, no
 * runner, no reporters.
 */
import { serveJob } from '../isolate/serve-job.js';
import { guestMemfdGuestJob } from './guest_memfd_guest.js';

serveJob(guestMemfdGuestJob);
