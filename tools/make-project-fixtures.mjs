import { zipSync, strToU8 } from 'fflate';
import sharp from 'sharp';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
const raw = Buffer.alloc(8*8*3); for (let i=0;i<raw.length;i++) raw[i]=(i*37)%256;
const png = await sharp(raw,{raw:{width:8,height:8,channels:3}}).png().toBuffer();
const h = createHash('sha256').update(png).digest('hex');
const manifest = { format:'pullback-project', formatVersion:1, model:{name:'analytic-large',dir:'test/fixtures/models/analytic-large'}, seed:7, steps:10, timestep:600,
 edits:[{basisKey:'b-600-k4',index:0,t:600,weight:2,enabled:true},{basisKey:'b-600-k4',index:2,t:600,weight:-1.5,enabled:false}], image:h, savedAt:'2026-01-02T03:04:05.000Z' };
writeFileSync('test/fixtures/projects/v1-seed.pbproj', zipSync({'manifest.json':strToU8(JSON.stringify(manifest,null,2)), ['blobs/'+h]:[new Uint8Array(png),{level:0}]}, {mtime:new Date('2000-01-01T00:00:00Z')}));
// a v2 file (format 2: no analyses; must migrate to the current version)
const state = { timestep: 600, edits: [{ id: 'e1', basisKey: 't600-krylov-k4', index: 1, t: 600, strength: 0.5, enabled: true }] };
const v2 = { format:'pullback-project', formatVersion:2, appVersion:'0.1.0', createdAt:'2026-06-01T00:00:00.000Z', modifiedAt:'2026-06-01T00:00:00.000Z',
 model:{name:'analytic-large',dir:'test/fixtures/models/analytic-large'}, source:{kind:'seed',seed:5,steps:10}, state, bases:[{key:'t600-krylov-k4',t:600,k:4,method:'krylov',sigmas:[4,3,2,1]}],
 history:{entries:[{label:'New',state:{timestep:null,edits:[]}},{label:'Add direction 1',state}],index:1}, images:{result:h} };
writeFileSync('test/fixtures/projects/v2-seed.pbproj', zipSync({'manifest.json':strToU8(JSON.stringify(v2,null,2)), ['blobs/'+h]:[new Uint8Array(png),{level:0}]}, {mtime:new Date('2000-01-01T00:00:00Z')}));
// a v4 (future) file with an extra field: opens read-only
const v4 = { format:'pullback-project', formatVersion:4, appVersion:'9.0.0', createdAt:'2030-01-01T00:00:00.000Z', modifiedAt:'2030-01-01T00:00:00.000Z',
 model:{name:'analytic-large',dir:'test/fixtures/models/analytic-large'}, source:{kind:'seed',seed:3,steps:10}, state:{timestep:null,edits:[]}, bases:[], history:{entries:[{label:'New',state:{timestep:null,edits:[]}}],index:0}, images:{result:h}, layers:[{future:true}] };
writeFileSync('test/fixtures/projects/v4-future.pbproj', zipSync({'manifest.json':strToU8(JSON.stringify(v4,null,2)), ['blobs/'+h]:[new Uint8Array(png),{level:0}]}, {mtime:new Date('2000-01-01T00:00:00Z')}));
console.log(h, png.length);
