/** What the cases know about the host, like the C test's globals (page_size...). */
import type { HostInfo } from '../kvm/host.js';

export type CaseEnv = HostInfo;
