#!/usr/bin/env python3
"""Cycles among the engine's top-level modules (engine/src/<module>.rs or
<module>/): which module names which through `crate::`. Test modules and
comments are left out. Prints each strongly connected component of more than
one module with its edges; `-v` prints every edge. Exits 1 on a cycle."""
import re,os,sys,itertools
root='engine/src'
mods={}
def modname(p):
    rel=os.path.relpath(p,root)
    return rel.split('/')[0].replace('.rs','')
edges={}
for dp,dn,fn in os.walk(root):
    for f in fn:
        if not f.endswith('.rs'): continue
        p=os.path.join(dp,f)
        # test modules: tests.rs, fuzz.rs and any *_tests.rs (ddl_tests, bounds_tests, ...)
        if f in('tests.rs','fuzz.rs') or f.endswith('_tests.rs'): continue
        t=open(p).read()
        # drop test modules at the end of the file
        t=re.split(r'\n#\[cfg\(test\)\]\s*\nmod \w+ \{',t)[0]
        t=re.sub(r'//.*','',t)
        m=modname(p)
        if m=='lib': continue
        refs=set(re.findall(r'crate::(\w+)',t))
        for u in re.findall(r'use crate::\{([^;]*)\};',t,re.S):
            refs|=set(re.findall(r'(?:^|[,{\s])(\w+)::',' '+u))|set(x.strip() for x in u.split(',') if re.fullmatch(r'\s*\w+\s*',x))
        edges.setdefault(m,set()).update(r for r in refs if r!=m)
# tarjan
idx={};low={};st=[];on=set();sccs=[];c=[0]
def sc(v):
    idx[v]=low[v]=c[0];c[0]+=1;st.append(v);on.add(v)
    for w in edges.get(v,()):
        if w not in edges: continue
        if w not in idx: sc(w);low[v]=min(low[v],low[w])
        elif w in on: low[v]=min(low[v],idx[w])
    if low[v]==idx[v]:
        s=[]
        while True:
            w=st.pop();on.discard(w);s.append(w)
            if w==v:break
        sccs.append(s)
for v in sorted(edges):
    if v not in idx: sc(v)
bad=[s for s in sccs if len(s)>1]
for s in bad:
    print('cycle among:',' '.join(sorted(s)))
    for a in sorted(s):
        print('  ',a,'->',' '.join(sorted(x for x in edges[a] if x in s)))
if '-v' in sys.argv:
    for a in sorted(edges): print(a,'->',' '.join(sorted(edges[a])))
print('no module cycle' if not bad else f'{len(bad)} cycle(s)')
sys.exit(1 if bad else 0)
